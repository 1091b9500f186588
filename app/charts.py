"""Charts (Altair): readable labels, units, and time axes stated in UTC."""

from __future__ import annotations

import altair as alt
import polars as pl


def success_rate_trend(frame: pl.DataFrame) -> alt.Chart:
    return (
        alt.Chart(frame.to_pandas())
        .mark_line(point=True)
        .encode(
            x=alt.X("report_date:T", title="Report day (UTC)"),
            y=alt.Y("success_rate:Q", title="TLS success rate", axis=alt.Axis(format="%"), scale=alt.Scale(zero=False)),
            color=alt.Color("policy_domain:N", title="Policy domain"),
            tooltip=["report_date:T", "policy_domain:N", alt.Tooltip("success_rate:Q", format=".2%"), "total:Q"],
        )
    )


def failures_trend(frame: pl.DataFrame) -> alt.Chart:
    return (
        alt.Chart(frame.to_pandas())
        .mark_bar()
        .encode(
            x=alt.X("report_date:T", title="Report day (UTC)"),
            y=alt.Y("failed_sessions:Q", title="Failed TLS sessions"),
            color=alt.Color("result_type:N", title="Result type"),
            tooltip=["report_date:T", "result_type:N", "failed_sessions:Q"],
        )
    )
