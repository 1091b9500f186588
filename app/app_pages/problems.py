"""Problems: anomalies grouped into things to fix, each with its diagnosis, fix and evidence."""

import streamlit as st

from app import data
from app.app_pages.common import page_filters
from app.safe_text import listed, literal
from app.tables import show

SEVERITY_ICON = {"critical": ":red[critical]", "warning": ":orange[warning]", "info": ":blue[info]"}

filters, snap = page_filters("Problems")
st.caption(
    "Detected from trends, not single failures: a problem opens when a failure rate breaks its own baseline, a "
    "new failure type appears, one MX fails alone, a reporter goes silent or a sender keeps an old policy. "
    "Reports come from the organisations sending mail **to** your domains: each problem is something on your "
    "side (MX, certificates, policy host, DNS) or on the path to it. Thresholds: docs/detection.md."
)
status = st.radio("Status", ["open", "resolved", "all"], horizontal=True, key="problem_status")
found = data.problems(filters, None if status == "all" else status, snap)
if found.height == 0:
    st.success("No problems in the selection." if status != "resolved" else "No resolved problems in the selection.")
    st.stop()

EXPANDED = 50  # problems shown in full; the rest as a table (13,000 at 1M reports would drown the page)

total = found["total_rows"][0]
st.metric("Problems", f"{total:,}")
for row in found.head(EXPANDED).iter_rows(named=True):
    when = f"since {row['first_seen']}" if row["status"] == "open" else f"{row['first_seen']} to {row['last_seen']}, resolved {row['resolved_on']}"
    header = f"{SEVERITY_ICON.get(row['severity'], literal(row['severity']))} · {literal(row['title'])} · {when}"
    with st.expander(header, expanded=row["status"] == "open" and row["severity"] == "critical"):
        # Titles, diagnoses and fixes name MX hosts, reporters and reason codes from reports.
        st.markdown(f"**What is happening.** {literal(row['diagnosis'])}")
        st.markdown(f"**What to do.** {literal(row['fix'])}")
        where = []
        for label, key in [("MX hosts", "affected_mx_hosts"), ("receiving IPs", "affected_ips"),
                           ("sending networks", "affected_sending_networks"), ("reporters", "affected_reporters"),
                           ("domains", "affected_domains"), ("reason codes", "reason_codes")]:
            if row[key]:
                where.append(f"{label}: {listed(row[key])}")
        if where:
            st.markdown("**Where.** " + "; ".join(where))
        if row["sessions_affected"] is not None:
            st.markdown(f"**Sessions affected:** {row['sessions_affected']:,}"
                        + (f" (peak {100 * row['peak_failure_rate']:.1f}% of a day's sessions)" if row["peak_failure_rate"] is not None else ""))
        if st.toggle("Evidence", key=f"evidence-{row['problem_id']}"):
            show(data.problem_evidence(row["problem_id"], snap))
if total > EXPANDED:
    st.subheader(f"All {total:,} problems in the selection")
    show(found.select("status", "severity", "title", "first_seen", "last_seen", "sessions_affected", "affected_reporters",
                      "total_rows"))
