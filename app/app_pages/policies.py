import streamlit as st

from app import data
from app.app_pages.common import page_filters
from app.tables import show

filters, snap = page_filters("Policies senders applied")
st.caption("What each reporter says it applied to your domain, and from when to when: an old version still in use is a stale cache.")
policies = data.applied_policies(filters, snap)
if policies.height == 0:
    st.info("No policies in the selection.")
show(policies)
