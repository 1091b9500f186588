import streamlit as st

from app import charts, data
from app.app_pages.common import page_filters
from app.meanings import meaning
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
                  delta_arrow="off",
                  help="Detected problems still open for the selected domains: see the Problems page.")

st.subheader("Who vouches for these numbers")
st.caption(
    "Per trust level of the reports: DKIM-verified mail proves its sender; HTTPS posts and plain files "
    "(unauthenticated) prove none, so one such report can claim any session counts. Compare the rows, or "
    "tick *DKIM-verified reports only* in the sidebar."
)
show(data.kpis_by_trust(filters, snap))

trend = data.daily_rates(filters, snap)
if trend.height:
    st.subheader("Success rate per day")
    st.altair_chart(charts.success_rate_trend(trend), width="stretch")

st.subheader("What needs attention most")
top = data.failures_by_result(filters, snap).head(3)
if top.height == 0:
    st.success("No failed sessions reported in this period.")
for row in top.iter_rows(named=True):
    st.markdown(
        f"**{literal(row['result_type'])}**: {row['failed_sessions']:,} failed sessions from {row['reporters']} reporter(s), "
        f"{row['first_day']} to {row['last_day']}. {meaning(row['result_type'])}"
    )
