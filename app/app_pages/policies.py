import streamlit as st

from app import data, links
from app.app_pages.common import page_filters
from app.tables import show

filters, snap = page_filters("Policies senders applied")
st.caption("What each reporter says it applied to your domain, and from when to when: an old version still in use is a stale cache.")
policies = data.applied_policies(filters, snap)
if policies.height == 0:
    st.info("No policies in the selection.")
show(links.column(policies, "policy_domain", "domain", "domain", "domain_url"), links={"policy_domain": "domain_url"})
