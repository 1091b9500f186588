import polars as pl
import streamlit as st

from app import charts, data, domain_data, freshness, links
from app.app_pages.common import page_filters
from app.problem_view import SEVERITY
from app.safe_text import literal
from app.tables import show

filters, snap = page_filters("Is mail to my domains arriving securely?")
st.caption(
    "Each day, organisations that send mail **to** your domains (Google, Microsoft, ...) report how their "
    "TLS sessions to your MX hosts went. A failure means *they* could not deliver to you securely."
)
kpi = data.kpis(filters, snap).row(0, named=True)
sessions, failed = kpi["sessions"] or 0, kpi["failed"] or 0
columns = st.columns(5)
columns[0].metric("TLS sessions", f"{sessions:,}")
columns[1].metric("Success rate", f"{(sessions - failed) / sessions:.2%}" if sessions else "n/a")
columns[2].metric("Failed sessions", f"{failed:,}")
columns[3].metric("Reporters", f"{kpi['reporters']:,}")
problems = data.open_problems(filters, snap).row(0, named=True)
columns[4].metric("Open problems", f"{problems['open']:,}",
                  delta=f"{problems['critical']:,} critical" if problems["critical"] else None, delta_color="inverse",
                  delta_arrow="off", help="Problems open now for the selected domains, whatever the days chosen.")

st.subheader("Who vouches for these numbers")
st.caption(
    "Per trust level of the reports: DKIM-verified mail proves its sender; HTTPS posts and plain files "
    "(unauthenticated) prove none, so one such report can claim any session counts. Compare the rows, or "
    "tick *DKIM-verified reports only* in the sidebar."
)
show(data.kpis_by_trust(filters, snap))

st.subheader("What needs attention most")
ranked = data.problems(filters, "open", snap)
if ranked.height == 0:
    st.success("No open problems for these domains.")
for row in ranked.head(5).iter_rows(named=True):
    domain = (row["affected_domains"] or [row["policy_domain"]])[0]
    where = f" · MX {literal(', '.join(row['affected_mx_hosts'][:3]))}" if row["affected_mx_hosts"] else ""
    failed_text = f" · {row['sessions_affected']:,} failed sessions" if row["sessions_affected"] else ""
    st.markdown(f"{SEVERITY.get(row['severity'], row['severity'])} **{literal(row['title'])}**  \n"
                f"[{literal(domain)}]({links.domain_url(domain)}){where} · since {row['first_seen']}{failed_text} · "
                f"[details]({links.url('problems', status='open', domain=[domain])})")
if ranked.height > 5:
    st.page_link("app_pages/problems.py", label=f"All {ranked.height:,} open problems",
                 query_params={**links.current(), "status": "open"})

owners = domain_data.owners(snap)
trend = data.daily_rates(filters, snap)
if trend.height:
    st.subheader("Success rate per day")
    names = {mx: f"DANE reports for {mx}" for mx in owners}
    labelled = trend.with_columns(pl.col("policy_domain").replace(names).alias("series"))
    _, hidden = charts.rate_points(labelled, "series")
    st.altair_chart(charts.success_rate_trend(labelled, "series", "Domain"), width="stretch")
    st.caption(f"Days without reports are gaps. Days with fewer than {charts.MIN_SESSIONS} sessions draw no rate "
               f"(one failure of two sessions would read as a collapse): {hidden:,} left out here. "
               "Open a domain's page for its MX hosts and reporters.")

st.subheader("Domains")
domains = domain_data.summary(filters, snap, owners)
show(links.column(domains, "policy_domain", "domain", "domain", "domain_url"), links={"policy_domain": "domain_url"})
st.page_link("app_pages/posture.py", label="Posture: what your domains publish now, and whether they are ready for enforce",
             icon=":material/verified_user:", query_params=links.current())

st.subheader("Is the data current?")
st.caption("Judged against the clock (UTC), not against the newest report day.")
verdict = freshness.verdict(snap)
intake = freshness.quiet_channels(freshness.channels(snap), verdict.allowed_days)
quiet = intake.filter(pl.col("overdue"))
if quiet.height:
    st.error(f"Nothing arrived by {', '.join(quiet['channel'])} for more than {verdict.allowed_days} days: "
             "check the mailbox, the receiver, the schedule.")
show(intake)
reporters = freshness.overdue(freshness.reporters(snap))
late = reporters.filter(pl.col("overdue"))
if late.height:
    st.warning(f"{late.height:,} reporter(s) overdue: no report for longer than their usual gap plus "
               f"{freshness.DELIVERY_DAYS} days of delivery delay.")
show(reporters.drop("reports"))
