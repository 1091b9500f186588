"""The reports list: a capped list is the head of the whole list, with the count of every match."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from app import data
from pipeline import read


@pytest.fixture()
def snap(scenarios: Path, monkeypatch) -> str:
    monkeypatch.setenv("TLSRPT_DATA_DIR", str(scenarios))
    monkeypatch.setattr(data, "run", data.run.__wrapped__)  # no st.cache_data between the calls
    return read.current_snapshot()


@pytest.mark.parametrize("search", ["", "GOOGLE", "example-0006", "no such reporter", "%"])
def test_a_capped_list_is_the_head_of_the_whole_list(snap: str, search: str):
    window = data.Filters((), date(2026, 1, 1), date(2026, 3, 31), None, False)
    whole = data.reports(window, search, snap, limit=None)
    for limit in (1, 37, 500):
        capped = data.reports(window, search, snap, limit=limit)
        assert capped.drop("total_rows").equals(whole.head(limit).drop("total_rows"))
        assert capped["total_rows"].to_list() == [whole.height] * capped.height
    if search == "GOOGLE":  # case-blind: the generated corpus has Google's reports
        assert whole.height > 0 and all("google" in (o + i).lower()
                                        for o, i in zip(whole["organization_name"], whole["report_id"]))
    if search in ("no such reporter", "%"):  # the text as typed: % is no wildcard
        assert whole.height == 0


def test_the_newest_rows_begin_on_the_day_the_limit_falls_on():
    days = [date(2026, 1, 3), date(2026, 1, 2), date(2026, 1, 1), None]
    assert data._newest_days_from(days, [5, 5, 5, 2], 5) == date(2026, 1, 3)
    assert data._newest_days_from(days, [5, 5, 5, 2], 6) == date(2026, 1, 2)
    assert data._newest_days_from(days, [5, 5, 5, 2], 15) == date(2026, 1, 1)
    assert data._newest_days_from(days, [5, 5, 5, 2], 16) is None  # the undated rows are wanted too
    assert data._newest_days_from(days, [5, 5, 5, 2], None) is None
