"""RFC 3339 date-times as real reporters write them.

Strict regex first: `fromisoformat` would accept week dates and basic formats.
Lenient where real senders need it: no zone at all (Microsoft 2023-24) is read as UTC and
flagged; lowercase `t`/`z` is valid RFC 3339; a leap second `:60` is clamped to `:59`.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from pipeline.parse.rejection import Rejected

_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})?",
    re.ASCII,  # `\d` would also match fullwidth and other Unicode digits
)


def parse_datetime(value: object, field: str, flags: set[str]) -> datetime:
    """Return an aware UTC datetime, adding `naive_datetime` / `leap_second` to flags."""
    if not isinstance(value, str):
        raise Rejected("bad_datetime", f"{field} is not a string")
    match = _RFC3339.fullmatch(value.strip())
    if match is None:
        raise Rejected("bad_datetime", f"{field} {value[:60]!r} is not RFC 3339")
    if len(value) == 20 and value[19] == "Z" and value[10] == "T" and value[17:19] != "60":
        try:  # the shape every big reporter sends: the C parser, once the regex has vouched for it
            return datetime.fromisoformat(value)
        except ValueError as exc:
            raise Rejected("bad_datetime", f"{field} {value!r}: {exc}") from None
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    fraction, zone = match.group(7), match.group(8)
    if second == 60:
        second = 59
        flags.add("leap_second")
    micro = int((fraction[1:] + "000000")[:6]) if fraction else 0
    if zone is None:
        flags.add("naive_datetime")
        tz = timezone.utc
    elif zone in "Zz":
        tz = timezone.utc
    else:
        hours, minutes = int(zone[1:3]), int(zone[4:6])
        if hours > 23 or minutes > 59:
            raise Rejected("bad_datetime", f"{field} has offset {zone}")
        sign = 1 if zone[0] == "+" else -1
        tz = timezone(sign * timedelta(hours=hours, minutes=minutes))
    try:
        # year 9999 with a negative offset, or year 1 with a positive one, is past the calendar in UTC
        return datetime(year, month, day, hour, minute, second, micro, tzinfo=tz).astimezone(timezone.utc)
    except (ValueError, OverflowError) as exc:
        raise Rejected("bad_datetime", f"{field} {value[:60]!r}: {exc}") from None
