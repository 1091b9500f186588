"""Charts (Altair): days on a day axis (UTC, no hour ticks), a line broken where a day has no
reports (no diagonals across empty days), and rates only where enough sessions carry them."""

from __future__ import annotations

import altair as alt
import polars as pl

MIN_SESSIONS = 10  # a day with fewer sessions draws no rate: one failed session of two reads as a collapse
MAX_TICKS = 12


def day_axis(frame: pl.DataFrame, field: str = "report_date") -> alt.X:
    """A tick per day, or per so many days that at most MAX_TICKS fit: never a tick between days
    (a three-day range would otherwise get hour ticks, each labelled with its day)."""
    days = (frame[field].max() - frame[field].min()).days + 1 if frame.height else 1
    step = max(1, -(-days // MAX_TICKS))
    axis = alt.Axis(format="%b %d", tickCount={"interval": "day", "step": step}, labelAngle=0, title=None)
    return alt.X(f"utcyearmonthdate({field}):T", title="Report day (UTC)", axis=axis)


def rate_points(frame: pl.DataFrame, series: str) -> tuple[pl.DataFrame, int]:
    """Days with at least MIN_SESSIONS sessions, each run of consecutive days numbered so a line
    is drawn within a run only; and how many days were left out for having fewer."""
    kept = frame.filter(pl.col("total") >= MIN_SESSIONS).sort(series, "report_date")
    day_number = pl.col("report_date").cast(pl.Int32)
    kept = kept.with_columns(
        # As floats: DuckDB's sums are DECIMAL(38, 0), and their quotient would be rounded to 0 or 1.
        (pl.col("successful").cast(pl.Float64) / pl.col("total").cast(pl.Float64)).alias("success_rate"),
        (pl.col(series).cast(pl.String) + ":" + (day_number - pl.int_range(pl.len()).over(series)).cast(pl.String)).alias("run"),
    )
    return kept, frame.height - kept.height


def _rate_axis(rates: pl.Series) -> tuple[str, list[float]]:
    """Enough decimals to tell the ticks apart (never 100.000000%), and a range that shows a
    100 % line as a line, not as the whole height."""
    low = rates.min() if rates.len() else None
    low = 1.0 if low is None else float(low)
    fmt = ".2%" if low >= 0.99 else ".1%" if low >= 0.9 else ".0%"
    return fmt, [max(0.0, min(low, 0.99) - 0.01), 1.0]


def success_rate_trend(frame: pl.DataFrame, series: str = "policy_domain", title: str = "Domain") -> alt.Chart:
    """`frame`: report_date, `series`, successful, total; rates only from days with MIN_SESSIONS."""
    points, _ = rate_points(frame, series)
    fmt, domain = _rate_axis(points["success_rate"])
    base = alt.Chart(points.to_pandas()).encode(
        x=day_axis(points),
        y=alt.Y("success_rate:Q", title="TLS success rate", axis=alt.Axis(format=fmt), scale=alt.Scale(domain=domain)),
        # Legend on the right: below the plot, many series would take the plot's height.
        color=alt.Color(f"{series}:N", title=title, legend=alt.Legend(orient="right", labelLimit=320)),
        tooltip=[alt.Tooltip("utcyearmonthdate(report_date):T", title="Day"), alt.Tooltip(f"{series}:N", title=title),
                 alt.Tooltip("success_rate:Q", title="Success rate", format=".2%"),
                 alt.Tooltip("total:Q", title="Sessions", format=","), alt.Tooltip("failed:Q", title="Failed", format=",")],
    )
    # Tall enough for the legend beside it: Vega clips a legend longer than the plot.
    height = max(280, 22 * points[series].n_unique())
    return (base.mark_line().encode(detail="run:N") + base.mark_circle(size=28)).properties(height=height)


def sessions_per_day(frame: pl.DataFrame) -> alt.Chart:
    """Stacked successful and failed sessions per day (`frame`: report_date, successful, failed)."""
    long = frame.group_by("report_date").agg(pl.col("successful").sum(), pl.col("failed").sum()).unpivot(
        index="report_date", on=["successful", "failed"], variable_name="outcome", value_name="sessions")
    return alt.Chart(long.to_pandas()).mark_bar().encode(
        x=day_axis(long),
        y=alt.Y("sessions:Q", title="TLS sessions", axis=alt.Axis(format=",d")),
        color=alt.Color("outcome:N", title="Sessions", scale=alt.Scale(domain=["successful", "failed"], range=["#4c9a6a", "#d1495b"]),
                        legend=alt.Legend(orient="bottom")),
        order=alt.Order("outcome:N", sort="descending"),
        tooltip=[alt.Tooltip("utcyearmonthdate(report_date):T", title="Day"), alt.Tooltip("outcome:N", title="Sessions"),
                 alt.Tooltip("sessions:Q", title="Count", format=",")],
    ).properties(height=220)


def failures_trend(frame: pl.DataFrame) -> alt.Chart:
    return alt.Chart(frame.to_pandas()).mark_bar().encode(
        x=day_axis(frame),
        y=alt.Y("failed_sessions:Q", title="Failed TLS sessions", axis=alt.Axis(format=",d")),
        color=alt.Color("result_type:N", title="Result type", legend=alt.Legend(orient="right")),
        tooltip=[alt.Tooltip("utcyearmonthdate(report_date):T", title="Day"), alt.Tooltip("result_type:N", title="Result type"),
                 alt.Tooltip("failed_sessions:Q", title="Failed sessions", format=",")],
    ).properties(height=260)
