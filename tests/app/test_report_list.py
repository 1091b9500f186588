"""The reports list: a capped list is the head of the whole list, with the count of every match."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from app import data
from pipeline import read
from pipeline.parse.report_parser import report_key


@pytest.fixture()
def snap(scenarios: Path, monkeypatch) -> str:
    monkeypatch.setenv("TLSRPT_DATA_DIR", str(scenarios))
    monkeypatch.setattr(data, "run", data.run.__wrapped__)  # no st.cache_data between the calls
    return read.current_snapshot()


@pytest.mark.parametrize("search", ["", "GOOGLE", "example-0006", "no such reporter", "%", "o'brien' or '1'='1",
                                    "goo\x00gle"])
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
    if search not in ("", "GOOGLE", "example-0006"):  # the text as typed: % is no wildcard, a quote no SQL
        assert whole.height == 0


def test_the_newest_rows_begin_on_the_day_the_limit_falls_on():
    days = [date(2026, 1, 3), date(2026, 1, 2), date(2026, 1, 1), None]
    assert data._newest_days_from(days, [5, 5, 5, 2], 5) == date(2026, 1, 3)
    assert data._newest_days_from(days, [5, 5, 5, 2], 6) == date(2026, 1, 2)
    assert data._newest_days_from(days, [5, 5, 5, 2], 15) == date(2026, 1, 1)
    assert data._newest_days_from(days, [5, 5, 5, 2], 16) is None  # the undated rows are wanted too
    assert data._newest_days_from(days, [5, 5, 5, 2], None) is None


def test_a_report_key_finds_its_report_whatever_the_days(snap: str):
    key, day = read.query(snap, "select report_key, report_date from staging.reports"
                                " order by report_date, report_key limit 1").row(0)
    before = data.Filters((), date(2000, 1, 1), date(2000, 1, 2), None, False)
    assert data.reports(before, key, snap)["report_key"].to_list() == [key]
    assert data.reports(before, f"  {key} ", snap)["report_key"].to_list() == [key]
    assert data.reports(before, key.upper(), snap).height == 0  # a key is matched exactly, as stored


@pytest.mark.parametrize(("organization", "report_id"), [("Google Inc.", "2026-01-01T00:00:00Z_example.com"),
                                                         ("", ""), ("ÉCOLE", "ID\x00'; --")])
def test_every_report_key_has_the_shape_the_search_looks_for(organization: str, report_id: str):
    # The list asks for an exact key only when the text has this shape (app/data.py: reports).
    assert read.REPORT_KEY_SHAPE.fullmatch(report_key(organization, report_id))
