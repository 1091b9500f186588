"""The sidebar filters, kept in the URL (st.query_params) so a view can be shared as a link."""

from __future__ import annotations

from datetime import date, timedelta

import streamlit as st

from app.data import Filters


def _date(text: str | None, default: date) -> date:
    try:
        return date.fromisoformat(text) if text else default
    except ValueError:
        return default


def sidebar(options: dict) -> Filters:
    params = st.query_params
    first, last = options["first"], options["last"]
    chosen_domains = [d for d in params.get_all("domain") if d in options["domains"]]
    # The default 30 days end at the newest report that is not in the future, never at a
    # report dated 9999 (the picker still reaches it).
    latest = options["latest"]
    default_start = max(first, latest - timedelta(days=29))
    start = _date(params.get("from"), default_start)
    end = _date(params.get("to"), latest)
    reporter = params.get("reporter")
    verified_only = params.get("trust") == "dkim_verified"
    with st.sidebar:
        st.caption("Reports come from the organisations that send mail **to** your domains.")
        domains = st.multiselect("Policy domains", options["domains"], default=chosen_domains, placeholder="all domains")
        picked = st.date_input("Days (UTC)", value=(max(start, first), min(end, last)), min_value=first, max_value=last)
        names = options["reporters"]
        reporter = st.selectbox(
            "Reporter", [None, *names], index=([None, *names].index(reporter) if reporter in names else 0),
            format_func=lambda r: "all reporters" if r is None else f"{names[r]} ({r})",
        )
        verified_only = st.checkbox(
            "DKIM-verified reports only", value=verified_only,
            help="Mailed reports whose DKIM signature verified on arrival; HTTPS and file uploads prove no sender.",
        )
    if isinstance(picked, (tuple, list)) and len(picked) == 2:
        start, end = picked
    st.query_params.update({"from": start.isoformat(), "to": end.isoformat()})
    st.query_params["domain"] = domains
    if reporter:
        st.query_params["reporter"] = reporter
    elif "reporter" in st.query_params:
        del st.query_params["reporter"]
    if verified_only:
        st.query_params["trust"] = "dkim_verified"
    elif "trust" in st.query_params:
        del st.query_params["trust"]
    return Filters(tuple(domains), start, end, reporter, verified_only)
