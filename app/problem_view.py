"""One problem, read like a ticket: what is happening, what to do, where, since when, the evidence
and the reports behind it; and the same as Markdown for a ticket system.

Titles, host names and reason codes come from reports written by strangers: they reach
st.markdown only escaped (`app.safe_text.literal`), and the Markdown export only inside a code block."""

from __future__ import annotations

from datetime import timedelta

import altair as alt
import polars as pl
import streamlit as st

from app import data, links
from app.charts import day_axis
from app.safe_text import literal
from app.tables import show

SEVERITY = {"critical": ":red-badge[critical]", "warning": ":orange-badge[warning]", "info": ":blue-badge[info]"}
WHERE = [("MX hosts", "affected_mx_hosts"), ("Reporters", "affected_reporters"),
         ("Sending networks", "affected_sending_networks"), ("Receiving IPs", "affected_ips"),
         ("Domains", "affected_domains"), ("Reason codes", "reason_codes")]
# Inline Markdown, Streamlit's :directives: and $math$; line-start syntax (lists, headings) cannot
# occur where this text goes (always after a label).




def when(row: dict) -> str:
    if row["status"] == "open":
        return f"open since {row['first_seen']}, last seen {row['last_seen']}"
    return f"{row['first_seen']} to {row['last_seen']}, resolved {row['resolved_on']}"


def as_markdown(row: dict) -> str:
    lines = [f"## {row['title']}", "", f"- Severity: {row['severity']} ({row['status']}, {when(row)})",
             f"- Detected on: {row['detected_on']}"]
    if row["sessions_affected"] is not None:
        lines.append(f"- Failed sessions: {row['sessions_affected']:,}")
    lines += [f"- {label}: {', '.join(map(str, row[key]))}" for label, key in WHERE if row[key]]
    lines += ["", "### What is happening", "", str(row["diagnosis"]), "", "### What to do", "", str(row["fix"]), "",
              f"Problem id: {row['problem_id']}"]
    return "\n".join(lines)


def _reports_behind(problem_id: str, snap: str) -> list[str]:
    evidence = data.problem_evidence(problem_id, snap)
    return sorted({key for keys in evidence["evidence_report_keys"].to_list() for key in (keys or [])})


def evidence_chart(row: dict, snap: str) -> alt.Chart:
    """Sessions and failed sessions per day of the problem's domains, two weeks before to a few days
    after; the problem's days shaded. A silence shows the silent reporters' sessions only."""
    start, end = row["first_seen"] - timedelta(days=14), (row["resolved_on"] or row["last_seen"]) + timedelta(days=3)
    reporters = list(row["affected_reporters"] or []) if row["kind"] == "silence" else []
    frame = data._q(
        "select report_date, sum(total_session_count) as sessions, sum(failed_session_count) as failed"
        " from marts.sources_by_reporter_daily where list_contains($1::varchar[], policy_domain)"
        " and report_date between $2 and $3 and (len($4::varchar[]) = 0 or list_contains($4::varchar[], reporter))"
        " group by 1 order by 1", [list(row["affected_domains"] or [row["policy_domain"]]), start, end, reporters], snap)
    span = pl.DataFrame({"from": [row["first_seen"]], "to": [row["last_seen"] + timedelta(days=1)]})
    band = alt.Chart(span.to_pandas()).mark_rect(opacity=0.12, color="#d1495b").encode(x="from:T", x2="to:T")
    long = frame.unpivot(index="report_date", on=["sessions", "failed"], variable_name="what", value_name="count")
    bars = alt.Chart(long.to_pandas()).mark_bar().encode(
        x=day_axis(long), y=alt.Y("count:Q", title="TLS sessions", stack=None, axis=alt.Axis(format=",d")),
        color=alt.Color("what:N", title=None, scale=alt.Scale(domain=["sessions", "failed"], range=["#b8c4d6", "#d1495b"]),
                        legend=alt.Legend(orient="bottom")),
        tooltip=[alt.Tooltip("utcyearmonthdate(report_date):T", title="Day"), alt.Tooltip("what:N", title="Sessions"),
                 alt.Tooltip("count:Q", title="Count", format=",")])
    return (band + bars).properties(height=180)


def render(row: dict, snap: str, *, full: bool) -> None:
    """`full`: the whole ticket, open; otherwise collapsed with the evidence behind a toggle."""
    label = f"{SEVERITY.get(row['severity'], row['severity'])} {literal(row['title'])} · {when(row)}"
    with st.expander(label, expanded=full):
        text, facts = st.columns([3, 2])
        text.markdown(f"**What is happening.** {literal(row['diagnosis'])}")
        text.markdown(f"**What to do.** {literal(row['fix'])}")
        facts.markdown(f"**First seen** {row['first_seen']} · **last seen** {row['last_seen']}"
                       + (f" · **resolved** {row['resolved_on']}" if row["resolved_on"] else "")
                       + (f"  \n**Failed sessions** {row['sessions_affected']:,}" if row["sessions_affected"] is not None else "")
                       + (f" (peak {row['peak_failure_rate']:.1%} of a day's sessions)" if row["peak_failure_rate"] is not None else ""))
        facts.markdown("  \n".join(f"**{name}** " + literal(", ".join(map(str, row[key][:8])) + (" ..." if len(row[key]) > 8 else ""))
                                   for name, key in WHERE if row[key]))
        if row.get("kind") == "posture":  # found by a check of what the domain publishes, not by reports
            domain = (row["affected_domains"] or [row["policy_domain"]])[0]
            st.page_link("app_pages/posture.py", label=f"The posture checks of {literal(domain)}",
                         icon=":material/verified_user:", query_params={**links.current(), "domain": domain})
        elif full or st.toggle("Evidence", key=f"evidence-{row['problem_id']}"):
            st.altair_chart(evidence_chart(row, snap), width="stretch")
            evidence = data.problem_evidence(row["problem_id"], snap)
            rows = links.column(evidence, "evidence_report_keys", "reports", "key", "reports_url")
            show(rows.select("report_date", pl.col("evidence_report_keys").list.len().alias("reports"), "reports_url",
                             "failed_sessions", "total_sessions", "detector", "detail"),
                 links={"reports": "reports_url"})
        keys = _reports_behind(row["problem_id"], snap)
        left, middle, right = st.columns(3)
        left.page_link("app_pages/reports.py", label=f"The reports behind it ({len(keys):,})", icon=":material/description:",
                       query_params={**links.current(), "key": keys[:200]})
        domain = (row["affected_domains"] or [row["policy_domain"]])[0]
        middle.page_link("app_pages/domain.py", label=f"Domain page of {literal(domain)}", icon=":material/dns:",
                         query_params={**links.current(), "domain": domain})
        with right.popover("Copy as Markdown", icon=":material/content_copy:"):
            ticket = as_markdown(row)
            st.code(ticket, language="markdown")
            st.download_button("Download .md", ticket, f"problem-{row['problem_id']}.md", "text/markdown",
                               key=f"md-{row['problem_id']}")
