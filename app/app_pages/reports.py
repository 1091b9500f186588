import json

import streamlit as st

from app import data, export, links
from app.app_pages.common import page_filters
from app.safe_text import literal
from app.tables import show

filters, snap = page_filters("Reports")
keys = tuple(st.query_params.get_all("key"))
mx = st.query_params.get("mx")
search = st.text_input("Search: report key, report-id or organisation", value=st.query_params.get("q", ""),
                       help="A whole report key finds its report whatever the days chosen.")
st.query_params["q"] = search
if keys:
    st.info(f"The {len(keys):,} report(s) behind a problem, whatever the other filters. Remove `key=` from the address to search.")
elif mx:
    st.info(f"Reports that name the MX host {literal(mx)} (failure details, or DANE reports filed under it).")
reports = data.reports(filters, search, snap, keys, mx)
show(links.column(reports, "report_key", "reports", "q", "report_url"), links={"report_key": "report_url"})
total = int(reports["total_rows"][0]) if reports.height else 0
everything = reports.drop("total_rows")
if total > reports.height:
    st.warning(f"The table and the exports below hold the newest {reports.height:,} of {total:,} reports. "
               "The full set is offered below it.")
left, middle, right = st.columns(3)
left.download_button("CSV", export.to_csv(everything), "reports.csv", "text/csv")
middle.download_button("JSON", export.to_json(everything), "reports.json", "application/json")
right.download_button("Parquet", export.to_parquet(everything), "reports.parquet", "application/octet-stream")
if total > reports.height:
    # Built only when clicked: the full set can be large.
    st.download_button(f"All {total:,} reports (CSV)",
                       lambda: export.to_csv(data.reports(filters, search, snap, keys, mx, limit=None).drop("total_rows")),
                       "reports-all.csv", "text/csv", key="all-csv")

st.subheader("Raw report")
listed = everything["report_key"].to_list()
chosen = st.selectbox("Report", [None, *listed], index=1 if (keys or search in listed) and listed else 0,
                      format_func=lambda k: "choose a report" if k is None else
                      " | ".join(str(v) for v in everything.row(listed.index(k))[1:4]))
if chosen:
    text = data.raw_report(chosen, snap)
    if text is None:
        st.warning("The raw bytes of this report are not in the landing zone.")
    else:
        try:
            pretty = json.dumps(json.loads(text), indent=2, ensure_ascii=False)
        except ValueError:
            pretty = text  # not JSON after all (kept as it came): shown as it is
        st.code(pretty, language="json", height=480)
        st.download_button("Download the JSON", text, f"{chosen}.json", "application/json")

st.subheader("Deliveries")
st.caption("Every input seen: loaded, duplicate (the same report again) or quarantined (with the reason).")
outcome = st.selectbox("Outcome", [None, "loaded", "duplicate", "quarantined"], format_func=lambda o: o or "all")
deliveries = links.column(data.deliveries(outcome, snap), "report_key", "reports", "q", "report_url")
show(deliveries, links={"report_key": "report_url"})

st.subheader("Quarantine")
show(data.quarantine(snap))
