"""Decode what a reporter says it applied: STS policy lines, TLSA records, MX patterns."""

from __future__ import annotations

import json
from typing import Any


def is_ascii_number(text: str) -> bool:
    """ASCII digits only: `"¹".isdigit()` is true but `int("¹")` fails, and `int("٣")` succeeds
    on a character no record or policy file is written with."""
    return text.isascii() and text.isdigit()


def unwrap_tlsa_strings(strings: list[str], flags: set[str]) -> list[str]:
    """Microsoft sends `["[\\"3 1 1 60..\\",\\"3 1 1 83..\\"]"]`: one string holding a JSON array.
    RFC 8460 section 4 also shows one `;`-separated string. Both become one record per item."""
    if len(strings) == 1 and strings[0].lstrip().startswith("["):
        try:
            inner = json.loads(strings[0])
        except ValueError:
            return strings
        if isinstance(inner, list) and all(isinstance(item, str) for item in inner):
            flags.add("tlsa_policy_string_double_encoded")
            return inner
    if len(strings) == 1 and ";" in strings[0]:
        return [part.strip() for part in strings[0].split(";") if part.strip()]
    return strings


def parse_tlsa(strings: list[str], flags: set[str]) -> list[dict[str, Any]]:
    """`usage selector mtype hex` per record; unparseable ones are left out of the structured
    list (they stay in policy_strings) and flagged."""
    records = []
    for text in strings:
        parts = text.split()
        if len(parts) == 4 and all(is_ascii_number(p) and int(p) < 256 for p in parts[:3]):
            records.append(
                {
                    "usage": int(parts[0]),
                    "selector": int(parts[1]),
                    "matching_type": int(parts[2]),
                    "association_data": parts[3].lower(),
                }
            )
        else:
            flags.add("tlsa_record_invalid")
    return records


def parse_sts(strings: list[str], flags: set[str]) -> tuple[str | None, int | None, list[str]]:
    """Return (mode, max_age, mx patterns). Parse by key: senders do not keep the file order."""
    mode: str | None = None
    max_age: int | None = None
    mx: list[str] = []
    for line in strings:
        key, sep, value = line.partition(":")
        if not sep:
            flags.add("sts_policy_line_invalid")
            continue
        key, value = key.strip().lower(), value.strip()
        if key == "mode":
            mode = value.lower()
        elif key == "max_age":
            if is_ascii_number(value) and len(value) <= 12:
                max_age = int(value)
            else:
                flags.add("sts_max_age_invalid")
        elif key == "mx":
            mx.append(normalise_host(value))
    return mode, max_age, mx


def normalise_host(name: str) -> str:
    return name.strip().rstrip(".").lower()


def normalise_mx_hosts(hosts: list[str], flags: set[str]) -> list[str]:
    """Lower-case, drop trailing dots, and strip an `mx: ` prefix (an anonymisation artefact)."""
    result = []
    for host in hosts:
        if host.lower().startswith("mx:"):
            flags.add("mx_host_prefixed")
            host = host[3:]
        host = normalise_host(host)
        if host:
            result.append(host)
    return result
