"""Links between pages that keep the filters: relative URLs (they work behind a base path)."""

from __future__ import annotations

from urllib.parse import urlencode

import polars as pl
import streamlit as st

# The filters a link carries from page to page (and a page change restores, see filters.py).
KEPT = ("domain", "from", "to", "reporter", "trust", "status")


def current() -> dict[str, list[str]]:
    return {key: st.query_params.get_all(key) for key in KEPT if st.query_params.get_all(key)}


def url(page: str, **params: str | list[str]) -> str:
    """`page` is a page's file name ("" for the overview); `params` replace the current ones."""
    merged = {**current(), **{key: value for key, value in params.items() if value is not None}}
    return f"./{page}?{urlencode(merged, doseq=True)}"


def domain_url(domain: str) -> str:
    return url("domain", domain=[domain])


def reports_url(keys: list[str] | None = None, mx: str | None = None, domain: str | None = None) -> str:
    """The Reports page listing the given report keys, or the reports naming an MX host."""
    extra: dict = {"key": list(keys or [])}
    if mx:
        extra["mx"] = mx
    if domain:
        extra["domain"] = [domain]
    return url("reports", **extra)


def column(frame: pl.DataFrame, source: str, page: str, param: str, alias: str) -> pl.DataFrame:
    """Add a column of links to `page` with `param` set to each row's `source` value (every
    element of it when `source` is a list)."""
    base = url(page, **{param: []})
    prefix = base + ("" if base.endswith("?") else "&") + param + "="
    values = pl.col(source)
    if isinstance(frame.schema[source], pl.List):
        encoded = values.list.eval(_encoded(pl.element())).list.join("&" + param + "=")
    else:
        encoded = _encoded(values)
    return frame.with_columns((pl.lit(prefix) + encoded).alias(alias))


def _encoded(value: pl.Expr) -> pl.Expr:
    """Percent-encode what would end or split a query value (report-sourced text), vectorised."""
    value = value.cast(pl.String).str.replace_all("%", "%25", literal=True)
    for char in "&#+= ?;":
        value = value.str.replace_all(char, f"%{ord(char):02X}", literal=True)
    return value
