"""A mail's Date is read by a shortcut for the plain RFC 5322 form; it must give exactly what
parsedate_to_datetime gives (then made UTC), for that form and for everything near it."""

from __future__ import annotations

import random
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

import pytest

from pipeline.parse import mail


def _by_stdlib(value: str) -> datetime | None:
    """mail._date as it was before the shortcut: parsedate_to_datetime alone."""
    try:
        parsed = parsedate_to_datetime(value)
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=timezone.utc)
        parsed = parsed.astimezone(timezone.utc)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return None if parsed.year > datetime.now(timezone.utc).year + 1 else parsed


EDGES = [
    "Fri, 2 Jan 2026 20:22:17 +0000",
    "Fri, 02 Jan 2026 20:22:17 -0000",  # no zone known: a naive time, read as UTC
    "Mon, 31 Dec 2029 23:59:59 -1200",
    "Tue, 1 Jan 1000 00:00:00 +1400",
    "Wed, 1 Jan 0099 00:00:00 +0000",  # a two-digit year in four digits: 1999
    "Thu, 30 Feb 2024 10:00:00 +0000",  # no such day
    "Thu, 0 Feb 2024 10:00:00 +0000",
    "Thu, 1 Feb 2024 24:00:00 +0000",
    "Thu, 1 Feb 2024 23:60:00 +0000",
    "Thu, 1 Feb 2024 23:59:60 +0000",  # a leap second: datetime has none
    "Thu, 1 Feb 2024 10:00:00 +2400",  # an offset of a whole day
    "Thu, 1 Feb 2024 10:00:00 +0099",
    "Thu, 1 Feb 2024 10:00:00 -2359",
    "Fri, 31 Dec 9999 23:00:00 -0500",  # overflows when made UTC
    "Fri, 31 Dec 9999 23:00:00 +0000",  # far in the future
    "Thu, 1 feb 2024 10:00:00 +0000",  # the month in lower case
    "Thu, 1 FEB 2024 10:00:00 +0000",
    "Thu, 1 Foo 2024 10:00:00 +0000",
    "Thu, 1 Feb 2024 10:00:00 +0000 (UTC)",
    "Thu, 1 Feb 2024 10:00:00 GMT",
    "Thu, 1 Feb 2024 10:00 +0000",
    "1 Feb 2024 10:00:00 +0000",
    "Thu,1 Feb 2024 10:00:00 +0000",
    "Thu,  1 Feb 2024 10:00:00 +0000",
    "Thu, 1 Feb 2024\n 10:00:00 +0000",
    "Thu, 1 Feb 2024 10:00:00 +0000 ",
    "Thu, \u0661 Feb 2024 10:00:00 +0000",  # an Arabic-Indic digit
    "Thu, 1 Feb 2024 10:00:00 +\u0660\u0660\u0660\u0660",
    "Thursday, 1 Feb 2024 10:00:00 +0000",
    "Thu, 001 Feb 2024 10:00:00 +0000",
    "",
    "garbage",
]


@pytest.mark.parametrize("value", EDGES)
def test_edges_read_as_the_stdlib_reads_them(value):
    assert mail._date(value) == _by_stdlib(value)
    if (result := mail._date(value)) is not None:
        assert result.tzinfo is timezone.utc


def test_random_plain_dates_read_as_the_stdlib_reads_them():
    draw = random.Random(8460)
    months = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
    for _ in range(5000):
        value = (f"{draw.choice(('Mon', 'Sun', 'Xyz'))}, {draw.randint(0, 32):0{draw.randint(1, 2)}d} "
                 f"{draw.choice(months)} {draw.randint(1000, 2100)} {draw.randint(0, 24):02d}:"
                 f"{draw.randint(0, 60):02d}:{draw.randint(0, 60):02d} {draw.choice('+-')}"
                 f"{draw.randint(0, 25):02d}{draw.choice((0, 30, 45, 59, 60, 99)):02d}")
        assert mail._date(value) == _by_stdlib(value), value


def test_the_year_bound_is_read_again_when_the_year_may_have_turned(monkeypatch):
    """mail._date refuses a Date after next year; the current year is remembered until the
    moment it ends, then read from the clock again."""
    now = datetime.now(timezone.utc)
    monkeypatch.setattr(mail, "_year", (1999, 0.0))  # a year that has ended
    assert mail._this_year() == now.year
    assert mail._year[1] == datetime(now.year + 1, 1, 1, tzinfo=timezone.utc).timestamp()
    monkeypatch.setattr(mail, "_year", (1999, now.timestamp() + 60))  # not over yet: remembered
    assert mail._date("Mon, 1 Jan 2001 00:00:00 +0000") is None
    assert mail._date("Sat, 1 Jan 2000 00:00:00 +0000") == datetime(2000, 1, 1, tzinfo=timezone.utc)
