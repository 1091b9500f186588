"""Posture: what a domain publishes now (records, policy file, MX certificates, TLSA), whether it
is ready for MTA-STS enforce, and how its checks changed. Reads the posture models only."""

import streamlit as st

from app import data
from app.safe_text import literal
from app.tables import show
from pipeline.read import NotBuilt

VERDICT = {"ok": ":green[ok]", "warn": ":orange[warn]", "fail": ":red[fail]", "error": ":violet[error]"}


def query(sql: str, *params, snap: str):
    return data.run(sql, params, snap)


st.title("Posture")
st.caption(
    "What your domains publish now, checked from the outside like a sending MTA does: the TLS-RPT and MTA-STS "
    "records, the policy file, each MX's STARTTLS certificate and TLSA records. Daily (`posture_daily`) or on "
    "demand with `tlsrpt check DOMAIN`; what is probed and how to turn it off: docs/posture.md."
)
snap = data.current_snapshot()
try:
    domains = query("select domain, verdict from posture.domain_posture order by domain", snap=snap) if snap else None
except NotBuilt:  # a snapshot from before the posture models
    domains = None
if domains is None or domains.height == 0:
    st.info("No posture checks yet: run `.venv/bin/tlsrpt check example.com`, then `.venv/bin/tlsrpt run`.")
    st.stop()

names = domains["domain"].to_list()
asked = st.query_params.get("domain")  # from the domain page, a problem, or a link
domain = st.selectbox("Domain", names, index=names.index(asked) if asked in names else 0, key="posture_domain")
(now,) = query("select * from posture.domain_posture where domain = $1", domain, snap=snap).iter_rows(named=True)
left, middle, right, last = st.columns(4)
left.markdown(f"**Checks:** {VERDICT[now['verdict']]}")
middle.metric("Policy mode", now["published_mode"] or "none published")
right.metric("Policy id", now["published_policy_id"] or "-")
days = now["min_certificate_days_left"]
last.metric("Certificate days left", "-" if days is None else days, help="The MX certificate closest to expiry.")

readiness = query("select * from posture.enforce_readiness where policy_domain = $1", domain, snap=snap)
if readiness.height:
    row = readiness.row(0, named=True)
    st.subheader(f"Ready for enforce? {row['verdict']}")
    st.markdown(literal(row["fix_first"]))  # names MX hosts from reports: text, never markdown
    blockers = query("select mx_host, reporter, cause, failed_sessions, first_seen, last_seen from posture.enforce_blockers"
                     " where policy_domain = $1 order by failed_sessions desc", domain, snap=snap)
    if blockers.height:
        show(blockers)

st.subheader("Checks now")
checks = query("select verdict, check_name, target, reason, detail, verdict_since, checked_at from posture.latest_checks"
               " where domain = $1 and is_current order by check_name, target", domain, snap=snap)
show(checks)

uncovered = query("select mx_host, is_in_dns, failed_sessions_30d, last_reported from posture.uncovered_mx"
                  " where policy_domain = $1", domain, snap=snap)
if uncovered.height:
    st.subheader("MX hosts not covered by the policy")
    show(uncovered)

adoption = query("select reporter, applies_published, applied_mode, applying_since, last_applied_day"
                 " from posture.policy_adoption where policy_domain = $1 and reporter is not null order by reporter",
                 domain, snap=snap)
if adoption.height:
    st.subheader("Does each reporter apply the published policy?")
    show(adoption)

st.subheader("History of changes")
show(query(
    "select checked_at, check_name, target, verdict, reason, detail from ("
    " select *, lag(verdict) over (partition by check_name, target order by checked_at) as before"
    " from main.posture_checks where domain = $1) where before is distinct from verdict"
    " order by checked_at desc limit 200", domain, snap=snap))
