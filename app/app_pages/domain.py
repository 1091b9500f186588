"""How is one domain doing: its trend, MX hosts, reporters and problems, as a link to send on."""

import polars as pl
import streamlit as st

from app import charts, data, domain_data, filters, links, problem_view
from app.app_pages.common import page_filters
from app.data import Filters
from app.safe_text import literal
from app.tables import show

selection, snap = page_filters("Domain")
owners = domain_data.owners(snap)
offered = [d for d in data.choices(snap)["domains"] if d not in owners]
chosen = st.query_params.get_all("domain")
wanted = owners.get(chosen[0], chosen[0]) if chosen else None  # an MX host with DANE reports: its domain's page
domain = st.selectbox("Domain", offered, index=offered.index(wanted) if wanted in offered else 0,
                      help="Pick one; the link of this page names it, so it can be sent as it is.")
if chosen != [domain]:
    # The page shows one domain: the address, the sidebar and the filters kept for the next page say so.
    st.query_params["domain"] = [domain]
    filters.save()
    st.rerun()
st.set_page_config(page_title=f"{domain} · TLS-RPT warehouse")  # the tab of a page sent to a colleague
mx_own = [mx for mx, owner in owners.items() if owner == domain]
scope = Filters((domain, *mx_own), selection.start, selection.end, selection.reporter, selection.verified_only)
st.caption(f"{selection.start} to {selection.end} (UTC)"
           + (f" · reporter {literal(selection.reporter)}" if selection.reporter else "")
           + (f" · with the DANE reports filed under its MX hosts {literal(', '.join(mx_own))}" if mx_own else ""))

days = domain_data.daily(scope, snap)
own = days.filter(pl.col("policy_domain") == domain)
sessions, failed = int(own["total"].sum()), int(own["failed"].sum())
open_now = data.open_problems(Filters((domain, *mx_own), selection.start, selection.end, None), snap).row(0, named=True)
kpi = st.columns(4)
kpi[0].metric("TLS sessions", f"{sessions:,}")
kpi[1].metric("Success rate", f"{(sessions - failed) / sessions:.2%}" if sessions else "n/a")
kpi[2].metric("Failed sessions", f"{failed:,}")
kpi[3].metric("Open problems", f"{open_now['open']:,}", help="Open whatever the days chosen.")

posture = data.posture_summary(domain, snap)
st.subheader("What it publishes (posture)")
if posture is None:
    st.caption("Never checked from the outside: `tlsrpt check " + literal(domain) + "` (or the daily posture job) does it.")
else:
    cols = st.columns(4)
    cols[0].metric("Checks now", posture["verdict"], help=f"{posture['fail_count']} failing, {posture['warn_count']} warning;"
                   f" checked {posture['checked_at']:%Y-%m-%d %H:%M} UTC")
    cols[1].metric("MTA-STS mode", posture["published_mode"] or "none published")
    cols[2].metric("Certificate days left", "-" if posture["min_certificate_days_left"] is None
                   else f"{posture['min_certificate_days_left']:,}", help="The MX certificate closest to expiry.")
    cols[3].metric("Ready for enforce?", posture["readiness"] or "-")
    if posture["readiness"] and posture["fix_first"]:
        st.caption(literal(posture["fix_first"]))
st.page_link("app_pages/posture.py", label=f"Posture of {literal(domain)}: every check and its history",
             icon=":material/verified_user:", query_params={**links.current(), "domain": domain})

st.subheader("Success rate per day")
labelled = days.with_columns(pl.when(pl.col("policy_domain") == domain).then(pl.lit(domain))
                             .otherwise(pl.lit("DANE reports for ") + pl.col("policy_domain")).alias("series"))
points, hidden = charts.rate_points(labelled, "series")
if points.height:
    st.altair_chart(charts.success_rate_trend(labelled, "series", "Reports"), width="stretch")
st.caption(f"Days without reports are gaps. Days with fewer than {charts.MIN_SESSIONS} sessions draw no rate"
           f" (one failure of two sessions would read as a collapse): {hidden:,} such day(s) left out here.")
st.subheader("Sessions per day")
st.altair_chart(charts.sessions_per_day(own), width="stretch")

st.subheader("Problems")
found = data.problems(scope, None, snap)
if found.height == 0:
    st.success("No open problems, and none resolved in these days.")
for rank, row in enumerate(found.head(20).iter_rows(named=True)):
    problem_view.render(row, snap, full=row["status"] == "open" and rank < 5)

st.subheader("MX hosts")
st.caption("Reports name an MX host only for failed sessions; sessions and success rate per MX exist only where "
           "senders filed DANE reports under the MX itself. The Reports link lists the reports naming the host.")
hosts = links.column(domain_data.mx_hosts(scope, domain, snap), "receiving_mx_hostname", "reports", "mx", "reports_url")
show(hosts, links={"receiving_mx_hostname": "reports_url"})

st.subheader("Reporters")
reporters = domain_data.reporters(scope, domain, snap)
show(reporters)
