"""Day charts: a line never crosses a day without reports, tiny days draw no rate, rates stay fractions."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import polars as pl

from app import charts


def frame(days: list[int], successful: list[int], total: list[int]) -> pl.DataFrame:
    return pl.DataFrame({
        "report_date": [date(2026, 3, d) for d in days], "policy_domain": "example.com",
        # DuckDB sums arrive as DECIMAL(38, 0); their quotient must not be rounded to 0 or 1.
        "successful": [Decimal(n) for n in successful], "total": [Decimal(n) for n in total],
        "failed": [t - s for s, t in zip(successful, total)],
    }, schema_overrides={"successful": pl.Decimal(38, 0), "total": pl.Decimal(38, 0)})


def test_missing_days_split_the_line_and_tiny_days_draw_no_rate():
    points, hidden = charts.rate_points(frame([1, 2, 3, 5, 6, 7], [90, 95, 1, 80, 99, 100], [100, 100, 2, 100, 100, 100]),
                                        "policy_domain")
    assert hidden == 1  # 1 of 2 sessions on the 3rd would read as a 50 % collapse
    assert points["success_rate"].to_list() == [0.9, 0.95, 0.8, 0.99, 1.0]
    runs = points["run"].to_list()
    # The 3rd (too small) and the 4th (no reports) are gaps: two runs, 1-2 and 5-7.
    assert runs[0] == runs[1] and runs[2] == runs[3] == runs[4] and runs[1] != runs[2]


def test_rate_axis_never_prints_long_decimals_and_keeps_a_flat_line_visible():
    fmt, domain = charts._rate_axis(pl.Series([1.0, 1.0]))
    assert fmt == ".2%" and domain[0] < 1.0 == domain[1]
    assert charts._rate_axis(pl.Series([0.5, 1.0]))[0] == ".0%"
