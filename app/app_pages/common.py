"""What every page does first: find the snapshot, explain an empty warehouse, say loudly when the
data is old, draw the filters."""

from __future__ import annotations

import streamlit as st

from app import data, domain_data, freshness
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
    stale_warning(snap)
    return sidebar(options, domain_data.owners(snap)), snap


def stale_warning(snap: str) -> freshness.Verdict:
    verdict = freshness.verdict(snap)
    if verdict.stale:
        arrived = f"{verdict.last_arrival:%Y-%m-%d %H:%M} UTC" if verdict.last_arrival else "never"
        st.error(
            f"**Stale data: the newest report covers {verdict.newest_day:%Y-%m-%d}, {verdict.days_behind:,} days ago** "
            f"(reports normally arrive within {verdict.allowed_days} days). The last input arrived {arrived}. "
            "Nothing shown here describes today: check the mailbox, the receiver (`tlsrpt serve`), the schedule "
            "(`tlsrpt fetch-imap`, the Dagster daemon).", icon=":material/warning:")
    return verdict
