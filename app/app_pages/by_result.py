import polars as pl
import streamlit as st

from app import charts, data
from app.app_pages.common import page_filters
from app.meanings import described
from app.safe_text import literal
from app.tables import show

filters, snap = page_filters("By result")
kpi = data.kpis(filters, snap).row(0, named=True)
st.metric("Successful sessions", f"{kpi['successful'] or 0:,}", help="Sessions that negotiated TLS and passed your policy.")
failures = data.failures_by_result(filters, snap)
if failures.height == 0:
    st.success("No failed sessions in this period.")
else:
    st.subheader("Failed sessions by result type")
    show(failures)
    st.subheader("What they mean")
    meanings = described(failures.select("result_type")).rename({"result_type": "Result type", "meaning": "Meaning",
                                                                 "usual fix": "Usual fix"})
    # A static table wraps long text, and renders its cells as Markdown: the result types come
    # from reports, so they go in as literal text.
    names = meanings.get_column("Result type").to_list()
    meanings = meanings.with_columns(pl.col("Result type").replace_strict({n: literal(n) for n in names}))
    st.table(meanings.to_pandas().set_index("Result type"))
    st.subheader("Per day")
    st.altair_chart(charts.failures_trend(data.failures_daily(filters, snap)), width="stretch")
