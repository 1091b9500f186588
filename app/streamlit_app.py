"""The analyst dashboard: `tlsrpt dashboard` starts it on the latest published snapshot."""

import sys
from pathlib import Path

# Streamlit puts this script's folder on sys.path, not the repository root.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import streamlit as st  # noqa: E402

st.set_page_config(page_title="TLS-RPT warehouse", layout="wide")

PAGES = Path(__file__).parent / "app_pages"
navigation = st.navigation(
    [
        st.Page(PAGES / "overview.py", title="Overview", default=True),
        st.Page(PAGES / "by_result.py", title="By result"),
        st.Page(PAGES / "by_source.py", title="By sending source"),
        st.Page(PAGES / "problems.py", title="Problems"),
        st.Page(PAGES / "policies.py", title="Policies"),
        st.Page(PAGES / "posture.py", title="Posture"),
        st.Page(PAGES / "reports.py", title="Reports"),
    ]
)
navigation.run()
