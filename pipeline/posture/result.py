"""The one record every posture check returns, and the verdicts it can carry."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

OK, WARN, FAIL, ERROR = "ok", "warn", "fail", "error"
# ok: as it should be; warn: works, but needs attention (a certificate expiring soon);
# fail: senders following the RFCs would be hurt now; error: we could not tell (DNS timeout,
# port 25 blocked on our side): try again, never read it as "absent".
VERDICTS = (OK, WARN, FAIL, ERROR)

RAW_CAP = 4096  # characters of the raw answer kept per result: enough to read, never a hostile 1 MB


def cap(text: str | bytes | None, limit: int = RAW_CAP) -> str:
    """Printable text of an answer, at most `limit` characters (binary bytes shown escaped)."""
    if text is None:
        return ""
    if isinstance(text, bytes):
        text = text[: limit * 4].decode("utf-8", "backslashreplace")
    return text if len(text) <= limit else text[:limit] + f"... [{len(text) - limit} more characters]"


@dataclass(frozen=True)
class CheckResult:
    check: str  # tlsrpt_txt, sts_txt, sts_policy, mx, mx_coverage, starttls, mx_certificate, tlsa
    domain: str  # the policy domain the check is for
    target: str  # what was asked: a DNS name, a URL, an MX host
    verdict: str
    reason: str  # stable code, e.g. "multiple_records", "certificate_expired"
    detail: str  # one line for a person
    raw: str = ""  # the answer as received, capped
    facts: dict[str, Any] = field(default_factory=dict)  # structured findings (policy id, days left...)
    checked_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc))

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ValueError(f"unknown verdict {self.verdict!r}")
        object.__setattr__(self, "raw", cap(self.raw))
