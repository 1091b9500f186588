"""Parse an MTA-STS policy file (RFC 8461 section 3.2) and say exactly what is wrong with it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

MAX_AGE_LIMIT = 31_557_600  # RFC 8461 3.2: at most one year
# RFC 8461 3.2 expects max_age "in the range of weeks or greater": shorter reopens the
# refresh-time attack window; below a day we say so.
MAX_AGE_SHORT = 86_400
MODES = ("enforce", "testing", "none")
# An mx pattern: a host name, or "*." and a host name (the wildcard covers one label).
MX_PATTERN = re.compile(r"(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}\.?")


@dataclass
class Policy:
    version: str = ""
    mode: str = ""
    mx: list[str] = field(default_factory=list)
    max_age: int | None = None
    problems: list[tuple[str, str]] = field(default_factory=list)  # (reason code, detail): invalid
    warnings: list[tuple[str, str]] = field(default_factory=list)  # valid, but worth changing

    @property
    def valid(self) -> bool:
        return not self.problems

    def facts(self) -> dict:
        return {"version": self.version, "mode": self.mode, "mx": self.mx, "max_age": self.max_age}


def parse_policy(text: str) -> Policy:
    policy = Policy()
    seen: dict[str, int] = {}
    # Lines end in CRLF per the ABNF; a bare LF is accepted (senders do).
    for number, line in enumerate(text.replace("\r\n", "\n").split("\n"), start=1):
        if not line.strip():
            continue
        key, sep, value = line.partition(":")
        key, value = key.strip(), value.strip()
        if not sep or not key:
            policy.problems.append(("syntax_error", f"line {number} is not 'key: value': {line[:80]!r}"))
            continue
        seen[key] = seen.get(key, 0) + 1
        if key == "mx":
            if not MX_PATTERN.fullmatch(value.lower()):
                policy.problems.append(("bad_mx_pattern", f"mx: {value[:80]!r} is not a host name or *.host pattern"))
            policy.mx.append(value.lower().rstrip("."))
        elif seen[key] > 1 and key in ("version", "mode", "max_age"):
            policy.problems.append(("duplicate_field", f"{key} appears more than once"))
        elif key == "version":
            policy.version = value
        elif key == "mode":
            policy.mode = value
        elif key == "max_age":
            policy.max_age = int(value) if re.fullmatch(r"[0-9]{1,10}", value) else -1
    _judge(policy)
    return policy


def _judge(policy: Policy) -> None:
    if policy.version != "STSv1":
        code = "missing_version" if not policy.version else "bad_version"
        policy.problems.append((code, f"version must be STSv1 (got {policy.version!r})"))
    if policy.mode not in MODES:
        code = "missing_mode" if not policy.mode else "bad_mode"
        policy.problems.append((code, f"mode must be enforce, testing or none (got {policy.mode!r})"))
    if policy.max_age is None:
        policy.problems.append(("missing_max_age", "max_age is required"))
    elif not 0 <= policy.max_age <= MAX_AGE_LIMIT:
        policy.problems.append(("max_age_out_of_range", f"max_age must be 0..{MAX_AGE_LIMIT} seconds"))
    elif policy.max_age < MAX_AGE_SHORT:
        policy.warnings.append(("max_age_short", f"max_age {policy.max_age} s is under a day; RFC 8461 expects weeks"))
    if policy.mode in ("enforce", "testing") and not policy.mx:
        policy.problems.append(("missing_mx", f"mode {policy.mode} needs at least one mx: line"))


def mx_covered(host: str, patterns: list[str]) -> str:
    """The pattern that covers `host` (RFC 8461 4.1: "*." matches exactly one left-most label), or ""."""
    host = host.lower().rstrip(".")
    for pattern in patterns:
        if pattern.startswith("*."):
            head, _, rest = host.partition(".")
            if head and rest == pattern[2:]:
                return pattern
        elif host == pattern:
            return pattern
    return ""
