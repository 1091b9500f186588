import streamlit as st

from app import data, links
from app.app_pages.common import page_filters
from app.safe_text import literal
from app.tables import show

filters, snap = page_filters("By sending source")
st.caption("Per reporting organisation; expand one to see which of **your** MX hosts failed, from which sending IPs, and why.")
reporters = data.sources_by_reporter(filters, snap)
hosts = data.sources_by_host(filters, snap)
show(reporters)
if hosts.height and hosts["total_rows"][0] > hosts.height:
    st.caption(f"Below: the {hosts.height:,} largest of {hosts['total_rows'][0]:,} failure sources; narrow the filters to see the rest.")
for row in reporters.iter_rows(named=True):
    detail = hosts.filter(hosts["reporter"] == row["reporter"])
    # Names come from reports and an expander label is Markdown: escaped.
    label = f"{literal(row['organization'])} ({literal(row['reporter'])}): {row['failed'] or 0:,} failed of {row['sessions'] or 0:,} sessions"
    with st.expander(label):
        if detail.height:
            show(detail.drop("reporter", "total_rows"))
        else:
            st.write("No failures reported by this sender in the period.")
st.subheader("Per receiving MX (which of our hosts fail, for whom)")
st.caption("The MX host links to the reports that name it; the By result page says what each result type means.")
per_mx = links.column(data.failures_by_mx(filters, snap), "receiving_mx_hostname", "reports", "mx", "reports_url")
show(per_mx, links={"receiving_mx_hostname": "reports_url"})
