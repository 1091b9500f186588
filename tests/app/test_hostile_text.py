"""Report fields on the dashboard are text, a report dated 9999 does not move the default window,
and the weight of unauthenticated reports is shown (issue 15, items 7 and 8)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from app.safe_text import literal
from pipeline.settings import Settings
from pipeline.transform.sql_models import refresh_all
from tests.app.test_pages import FIXTURES, PAGES, app_at
from tests.conftest import ingest_into, open_warehouse, publish
from tests.fixtures.hostile import (
    ATTACKER,
    MARKDOWN_IMAGE,
    MARKDOWN_LINK,
    OUTPUT_CASES,
    RICH_MARKUP,
    write_case,
)

HOSTILE_DAY = "2024-05-01"  # the day of every hostile case (builders.BASE_REPORT)


def seed_hostile(data_dir: Path) -> None:
    """The fixtures, the hostile output cases, a problem whose text carries them, and a day in
    9999 in the marts (a sender can claim any date; the ingest may refuse it, the app must not care)."""
    inbox = data_dir.parent / "hostile-inbox"
    inbox.mkdir(parents=True)
    for case in OUTPUT_CASES:
        write_case(case, inbox / f"{case.name}.json")
    ingest_into(data_dir, [FIXTURES, inbox])
    refresh_all(Settings(data_dir=data_dir))
    con = open_warehouse(data_dir, read_only=False)
    try:
        con.execute(
            "insert into detect.problems by name select 'p-hostile' as problem_id, 'open' as status, 'critical' as severity,"
            " 3 as severity_rank, $1 as title, $2 as diagnosis, $3 as fix, 'example.com' as policy_domain,"
            " ['example.com'] as affected_domains, [$4] as affected_mx_hosts, [$5] as affected_reporters,"
            " [$4] as reason_codes, [] as affected_ips, [] as affected_sending_networks,"
            " $6::date as first_seen, $6::date as last_seen, 7 as sessions_affected",
            [f"Expired certificate on {MARKDOWN_IMAGE}", f"The certificate of {MARKDOWN_LINK} expired.",
             f"Renew it: {MARKDOWN_LINK}", MARKDOWN_IMAGE, RICH_MARKUP, HOSTILE_DAY])
        con.execute("insert into marts.daily_domain_sessions by name select date '9999-12-30' as report_date,"
                    " 'fixture.test' as policy_domain, 0 as successful_session_count, 1000000 as failed_session_count,"
                    " 1000000 as total_session_count, 1 as report_count")
    finally:
        con.close()
    publish(data_dir)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> Path:
    data_dir = tmp_path_factory.mktemp("hostile-dash") / "data"
    seed_hostile(data_dir)
    return data_dir


def markdown_sources(at) -> list[str]:
    """Every string the page hands to Streamlit's markdown renderer."""
    found = [e.value for kind in ("markdown", "caption", "title", "subheader", "info", "success", "warning")
             for e in getattr(at, kind)]
    return found + [e.label for e in at.expander]


@pytest.mark.parametrize("page", PAGES)
def test_report_text_never_reaches_markdown_as_markup(hostile: Path, monkeypatch, page: str):
    at = app_at(hostile, monkeypatch, page, **{"from": HOSTILE_DAY, "to": HOSTILE_DAY})
    assert not at.exception, at.exception
    sources = markdown_sources(at)
    # The app's own links are relative ("](./domain?..."); a link a report smuggled in would not be.
    assert not [s for s in sources if ATTACKER in s or "](" in s.replace("\\](", "").replace("](./", "")]


def test_hostile_text_is_shown_defused_where_pages_write_prose(hostile: Path, monkeypatch):
    """Not a vacuous pass: the hostile values are on the pages, in their literal() form."""
    overview = markdown_sources(app_at(hostile, monkeypatch, **{"from": HOSTILE_DAY, "to": HOSTILE_DAY}))
    problems = markdown_sources(app_at(hostile, monkeypatch, "problems", **{"from": HOSTILE_DAY, "to": HOSTILE_DAY}))
    assert any(literal(text) in s for s in overview for text in (MARKDOWN_IMAGE, MARKDOWN_LINK, RICH_MARKUP))  # result types
    assert any(literal(f"Expired certificate on {MARKDOWN_IMAGE}") in s for s in problems)  # the title
    assert any(literal(RICH_MARKUP) in s for s in problems)  # a reporter


@pytest.mark.parametrize("text", [MARKDOWN_IMAGE, MARKDOWN_LINK, RICH_MARKUP, ":red[x] :smile: $x$ <b>b</b> *e* `c`",
                                  "www.attacker.invalid and victim@attacker.invalid", "a\\b | c # d\n\n# heading"])
def test_literal_renders_as_the_text_itself(text: str):
    html = MarkdownIt("commonmark").enable(["table", "strikethrough"]).render(literal(text))
    assert "<a" not in html and "<img" not in html and "<em" not in html and "<code" not in html and "<h1" not in html
    # Streamlit's own rewrites of the parsed text (remark-gfm autolinks, emoji) match unbroken runs only.
    assert "://" not in html.replace("\u2060//", "") and "www." not in html and ":smile:" not in html


def test_default_window_ends_at_the_clock_not_at_a_report_dated_9999(hostile: Path, monkeypatch):
    at = app_at(hostile, monkeypatch)
    assert not at.exception
    start, end = at.date_input[0].value
    assert end == date(2026, 3, 1) and start == date(2026, 1, 31)  # the fixtures' newest day, not 9999-12-30
    assert {m.label: m.value for m in at.metric}["TLS sessions"] != "0"


def test_sessions_per_trust_level_are_on_the_overview(hostile: Path, monkeypatch):
    at = app_at(hostile, monkeypatch, **{"from": HOSTILE_DAY, "to": HOSTILE_DAY})
    tables = [t.value for t in at.dataframe if "trust" in t.value.columns]
    assert tables, "no per-trust table on the overview"
    rows = dict(zip(tables[0]["trust"], tables[0]["sessions"]))
    assert rows == {"unauthenticated": 5329 * len(OUTPUT_CASES)}  # files prove no sender
