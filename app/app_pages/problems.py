"""Problems: anomalies grouped into things to fix, each a ticket (diagnosis, fix, evidence, reports)."""

import polars as pl
import streamlit as st

from app import data, filters, links, problem_view
from app.app_pages.common import page_filters
from app.tables import show

CHOICES = {"open": "Open (whatever the days)", "resolved": "Resolved in the days chosen", "all": "All"}
SHOWN = 20  # problems drawn as tickets; the rest as a table (13,000 at 1M reports would drown the page)
OPENED = 3  # tickets drawn open with their evidence chart and rows; later ones open on a click (page time)

selection, snap = page_filters("Problems")
st.caption(
    "Detected from trends, not single failures: a problem opens when a failure rate breaks its own baseline, a "
    "new failure type appears, one MX fails alone, a reporter goes silent or a sender keeps an old policy. "
    "Reports come from the organisations sending mail **to** your domains: each problem is something on your "
    "side (MX, certificates, policy host, DNS) or on the path to it. Thresholds: docs/detection.md."
)
wanted = st.query_params.get("status", "open")
status = st.radio("Status", list(CHOICES), format_func=CHOICES.get, horizontal=True,
                  index=list(CHOICES).index(wanted) if wanted in CHOICES else 0)
st.query_params["status"] = status
filters.save()
one = st.query_params.get("problem")  # a link to one problem (from the table below, or a colleague)
if one:
    st.caption("One problem, as linked. Remove `problem=` from the address to see them all.")
found = data.problems(selection, None if status == "all" or one else status, snap, one)
if found.height == 0:
    st.success("No open problems for these domains." if status == "open" else "No problems in the selection.")
    st.stop()

total = found["total_rows"][0]
open_count = found.filter(pl.col("status") == "open").height
st.metric("Problems", f"{total:,}", help=f"{open_count:,} open; open ones are shown whatever the days chosen.")
if open_count > OPENED and not one:
    st.caption(f"The {OPENED} worst open problems are shown in full; the others open with their Evidence switch.")
for rank, row in enumerate(found.head(SHOWN).iter_rows(named=True)):
    problem_view.render(row, snap, full=(row["status"] == "open" and rank < OPENED) or bool(one))
if total > SHOWN:
    st.subheader(f"All {total:,} problems in the selection")
    table = links.column(found, "policy_domain", "domain", "domain", "domain_url")
    table = links.column(table.with_columns(pl.lit("reports").alias("reports")), "problem_id", "problems", "problem", "problem_url")
    show(table.select("status", "severity", "reports", "problem_url", "title", "policy_domain", "domain_url", "first_seen",
                      "last_seen", "sessions_affected", "total_rows"),
         links={"policy_domain": "domain_url", "reports": "problem_url"})
