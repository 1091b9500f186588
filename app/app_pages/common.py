"""What every page does first: find the snapshot, explain an empty warehouse, draw the filters."""

from __future__ import annotations

import streamlit as st

from app import data
from app.filters import sidebar


def page_filters(title: str):
    """Return (filters, snapshot) or stop the page with an explanation of what to do."""
    st.title(title)
    snap = data.current_snapshot()
    if snap is None:
        st.info(
            "No reports yet. Load some with `.venv/bin/tlsrpt ingest PATH` (files, folders, mbox, Maildir), "
            "or drop them into `data/inbox/` and run `.venv/bin/tlsrpt run`; this page then fills in."
        )
        st.stop()
    options = data.choices(snap)
    if options["first"] is None:
        st.info("The warehouse holds no reports yet: ingest some (see the README), then reload.")
        st.stop()
    return sidebar(options), snap
