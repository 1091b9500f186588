"""One way to show a table: full width, no index, days as days and times in UTC."""

from __future__ import annotations

import polars as pl
import streamlit as st


def show(frame: pl.DataFrame) -> None:
    """A `total_rows` column (the count before a LIMIT) becomes a caption when rows were left out."""
    if "total_rows" in frame.columns:
        total = frame["total_rows"][0] if frame.height else 0
        frame = frame.drop("total_rows")
        if total > frame.height:
            st.caption(f"The {frame.height:,} largest of {total:,} rows; narrow the filters to see the rest.")
    config = {}
    for name, kind in frame.schema.items():
        if kind == pl.Date:
            config[name] = st.column_config.DateColumn(name, format="YYYY-MM-DD")
        elif isinstance(kind, pl.Datetime):
            config[name] = st.column_config.DatetimeColumn(f"{name} (UTC)", format="YYYY-MM-DD HH:mm:ss", timezone="UTC")
    st.dataframe(frame, width="stretch", hide_index=True, column_config=config)
