"""The sidebar filters, kept in the URL (st.query_params) so a view can be shared as a link, and
carried from page to page: the navigation drops the query string, so the last filters of this
session are put back when a page opens without them."""

from __future__ import annotations

from datetime import date, timedelta

import streamlit as st

from app.data import Filters
from app.links import KEPT

_SAVED = "kept_filters"


def _date(text: str | None, default: date) -> date:
    try:
        return date.fromisoformat(text) if text else default
    except ValueError:
        return default


def restore() -> None:
    """A page opened without dates (a page change, a bare link) takes this session's last
    filters for every filter its URL does not name."""
    saved = st.session_state.get(_SAVED)
    if saved and "from" not in st.query_params:
        for key, values in saved.items():
            if key not in st.query_params and values:
                st.query_params[key] = values


def save() -> None:
    st.session_state[_SAVED] = {key: st.query_params.get_all(key) for key in KEPT}


def sidebar(options: dict, owners: dict[str, str]) -> Filters:
    """`owners`: MX host -> its domain, for MX hosts that carry reports of their own (DANE
    reports filed under the MX): they are not offered as domains but come with theirs."""
    restore()
    params = st.query_params
    first, last = options["first"], options["last"]
    offered = [d for d in options["domains"] if d not in owners]
    chosen_domains = [d for d in params.get_all("domain") if d in offered]
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
        domains = st.multiselect("Domains", offered, default=chosen_domains, placeholder="all domains",
                                 help="DANE reports filed under one of a domain's MX hosts come with the domain.")
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
    for key, value in (("reporter", reporter), ("trust", "dkim_verified" if verified_only else None)):
        if value:
            st.query_params[key] = value
        elif key in st.query_params:
            del st.query_params[key]
    save()
    with_mx = [*domains, *(mx for mx, owner in owners.items() if owner in domains)]
    return Filters(tuple(with_mx), start, end, reporter, verified_only)
