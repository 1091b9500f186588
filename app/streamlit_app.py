"""The analyst dashboard: `tlsrpt dashboard` starts it on the last passed model build (a pinned lake snapshot)."""

import sys
from pathlib import Path

# Streamlit puts this script's folder on sys.path, not the repository root.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import streamlit as st  # noqa: E402

HERE = Path(__file__).parent
PAGES = HERE / "app_pages"
page = st.navigation(
    [
        st.Page(PAGES / "overview.py", title="Overview", icon=":material/dashboard:", default=True),
        st.Page(PAGES / "domain.py", title="Domain", icon=":material/dns:"),
        st.Page(PAGES / "problems.py", title="Problems", icon=":material/report:"),
        st.Page(PAGES / "by_result.py", title="By result", icon=":material/bar_chart:"),
        st.Page(PAGES / "by_source.py", title="By sending source", icon=":material/outgoing_mail:"),
        st.Page(PAGES / "policies.py", title="Policies", icon=":material/policy:"),
        st.Page(PAGES / "posture.py", title="Posture", icon=":material/verified_user:"),
        st.Page(PAGES / "reports.py", title="Reports", icon=":material/description:"),
    ]
)
# A local favicon (a Material icon would be fetched from Google's font CDN) and a tab title per page.
st.set_page_config(page_title=f"{page.title} · TLS-RPT warehouse", page_icon=str(HERE / "static" / "favicon.png"), layout="wide")
page.run()
