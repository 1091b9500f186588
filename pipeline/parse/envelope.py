"""What the delivery said about a report, outside the JSON: mail headers, file names."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

# RFC 8460 section 5.3: sender!policy-domain!begin-timestamp!end-timestamp[!unique-id].json[.gz]
_RFC_FILENAME = re.compile(r"([^!/\\]+)!([^!/\\]+)!(\d+)!(\d+)(?:!([^!/\\]*))?\.json(?:\.gz)?", re.I)


@dataclass(slots=True)
class Envelope:
    """Metadata of one report payload; every field may be unknown (None). Treated as a value
    (copies are made with dataclasses.replace), but not frozen: a frozen dataclass sets each
    field through object.__setattr__, ~1 us per report on the ingest hot path."""

    channel: str = "file"
    origin: str = ""
    received_at: datetime | None = None
    report_domain: str | None = None  # TLS-Report-Domain header
    submitter: str | None = None  # TLS-Report-Submitter header
    message_id: str | None = None
    subject: str | None = None
    from_address: str | None = None
    attachment_name: str | None = None
    content_type: str | None = None


def filename_policy_domain(name: str | None) -> str | None:
    """The policy domain from an RFC file name, or None if the name is not of that form."""
    if not name:
        return None
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    match = _RFC_FILENAME.fullmatch(base)
    return match.group(2).strip().rstrip(".").lower() if match else None
