import streamlit as st

from app import data, export
from app.app_pages.common import page_filters
from app.tables import show

filters, snap = page_filters("Reports")
search = st.text_input("Search report-id or organisation", value=st.query_params.get("q", ""))
st.query_params["q"] = search
reports = data.reports(filters, search, snap)
show(reports)
left, middle, right = st.columns(3)
left.download_button("CSV", export.to_csv(reports), "reports.csv", "text/csv")
middle.download_button("JSON", export.to_json(reports), "reports.json", "application/json")
right.download_button("Parquet", export.to_parquet(reports), "reports.parquet", "application/octet-stream")

st.subheader("Raw report")
keys = reports["report_key"].to_list()
chosen = st.selectbox("Report", [None, *keys], format_func=lambda k: "choose a report" if k is None else
                      " | ".join(str(v) for v in reports.row(keys.index(k))[1:4]))
if chosen:
    text = data.raw_report(chosen, snap)
    if text is None:
        st.warning("The raw bytes of this report are not in the landing zone.")
    else:
        st.code(text, language="json")
        st.download_button("Download the JSON", text, f"{chosen}.json", "application/json")

st.subheader("Deliveries")
st.caption("Every input seen: loaded, duplicate (the same report again) or quarantined (with the reason).")
outcome = st.selectbox("Outcome", [None, "loaded", "duplicate", "quarantined"], format_func=lambda o: o or "all")
show(data.deliveries(outcome, snap))

st.subheader("Quarantine")
show(data.quarantine(snap))
