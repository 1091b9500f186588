"""Mail messages: find the report attachments and the headers that describe them.

An ordinary report mail is read by mime_fast, which gives what the stdlib parser would at a
fraction of its cost; any other mail by the stdlib parser, and both answers go through the same
steps below (header values, candidates, transfer decoding). The stdlib parser runs with
`compat32`: `policy.default` took 25 s on a 100k-part MIME bomb, so parts are counted in the raw
bytes first and the cheap policy does the rest.
The top-level boundary is renamed to a fixed one before parsing, where that provably changes
nothing but its name (see _with_fixed_boundary): 18 % off ingesting an mbox of 100k reports.
Attachment names are kept as metadata only; nothing here ever builds a path from them.
"""

from __future__ import annotations

import base64
import binascii
import email
import email.policy
import quopri
import re
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.header import decode_header, make_header
from email.message import Message
from email.utils import parseaddr, parsedate_to_datetime
from functools import lru_cache
from typing import Callable

from pipeline.parse import limits, mime_fast
from pipeline.parse.rejection import Rejected

_REPORT_NAME_ENDINGS = (".json", ".json.gz", ".gz", ".zip")


# Not frozen (a frozen dataclass sets each field through object.__setattr__): made per mail.
@dataclass(slots=True)
class Attachment:
    name: str | None
    content_type: str
    payload: bytes


@dataclass(slots=True)
class MailHeaders:
    report_domain: str | None
    submitter: str | None
    message_id: str | None
    subject: str | None
    from_address: str | None
    date: datetime | None


def _text(value: object) -> str | None:
    """A header's value as we keep it: encoded words decoded, folds and runs of blanks made one space."""
    if value is None:
        return None
    text = str(value)
    if "=?" in text:  # an encoded word may be in it (decode_header returns any other text as it is)
        try:
            text = str(make_header(decode_header(text)))
        except (ValueError, LookupError, UnicodeError):
            pass
    # Already one line with single spaces (most values): what the join below gives. Every
    # character that str.split() splits at but the space is unprintable.
    if text.isprintable() and "  " not in text and text[:1] != " " and text[-1:] != " ":
        return text or None
    text = " ".join(text.split())  # unfold (Subject comes folded over 2-4 lines)
    return text or None


# The Date most mails carry (RFC 5322 section 3.3 without its optional parts): for it this gives
# what parsedate_to_datetime gives, at a third of its cost; any other form goes to that function.
_MONTHS = {name: number for number, name in enumerate(
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), start=1)}
_PLAIN_DATE = re.compile(r"[A-Za-z]{3}, (\d{1,2}) ([A-Z][a-z]{2}) ([1-9]\d{3}) (\d\d):(\d\d):(\d\d) ([+-])(\d\d)(\d\d)",
                         re.ASCII)


def _parsed_date(text: str) -> datetime:
    """parsedate_to_datetime(text), with its ValueError for what is no date."""
    plain = _PLAIN_DATE.fullmatch(text)
    if plain is None or plain.group(2) not in _MONTHS:
        return parsedate_to_datetime(text)
    day, month, year, hour, minute, second = plain.groups()[:6]
    # the zone is the text's last five characters, which the expression has matched
    return datetime(int(year), _MONTHS[month], int(day), int(hour), int(minute), int(second), tzinfo=_zone(text[-5:]))


@lru_cache(maxsize=256)
def _zone(zone: str) -> timezone | None:
    """The tzinfo of a `+hhmm` / `-hhmm` zone (ValueError past a day): a mail's Date is unique,
    its zone one of a few, and making the timezone object was a fifth of reading the Date."""
    offset = int(zone[1:3]) * 3600 + int(zone[3:5]) * 60
    if not offset:  # +0000 is UTC; -0000 (no zone known) parses to a naive time, read as UTC below
        return None if zone[0] == "-" else timezone.utc
    return timezone(timedelta(seconds=-offset if zone[0] == "-" else offset))


def _date(value: object) -> datetime | None:
    if not value:
        return None
    try:
        parsed = _parsed_date(str(value))
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=timezone.utc)
        parsed = parsed.astimezone(timezone.utc)  # year 9999 with a negative offset overflows here
    except (TypeError, ValueError, IndexError, OverflowError):
        return None  # garbage Date: the caller falls back to file time
    if parsed.year > _this_year() + 1:
        return None  # a Date in year 9999 is no arrival time either: the same fallback
    return parsed


_year = (0, 0.0)  # this year in UTC, and the POSIX time at which it ends


def _this_year() -> int:
    """datetime.now(timezone.utc).year, read from the clock only when the year may have turned."""
    global _year
    if time.time() >= _year[1]:
        year = datetime.now(timezone.utc).year
        _year = (year, datetime(year + 1, 1, 1, tzinfo=timezone.utc).timestamp() if year < 9999 else float("inf"))
    return _year[0]


@lru_cache(maxsize=4096)
def _address(text: str) -> str | None:
    """The address in a From header. Cached: a reporter sends every mail from the same From,
    and parseaddr's tokenizer was a fifth of reading a report mail."""
    return parseaddr(text)[1] or None


@lru_cache(maxsize=4096)
def _sender_text(value: str) -> str | None:
    """_text of a header value that a reporter sends the same in every mail (TLS-Report-Domain,
    TLS-Report-Submitter), remembered by the raw value: a third of _text's cost."""
    return _text(value)


@lru_cache(maxsize=4096)
def _from_address(value: str) -> str | None:
    """The address of a raw From value, remembered: a reporter sends every mail from the same From."""
    return _address(_text(value) or "")


def _mail_headers(get: Callable[[str], object]) -> MailHeaders:
    """The headers we keep, from either parse's header lookup (`get(lowercased name)`: the first
    value or None; compat32's Message.get ignores case, mime_fast's Headers are lowercased)."""
    domain, submitter, sender = get("tls-report-domain"), get("tls-report-submitter"), get("from")
    return MailHeaders(
        # the stdlib parse may give a Header, which cannot be a cache key
        report_domain=_sender_text(domain) if type(domain) is str else _text(domain),
        submitter=_sender_text(submitter) if type(submitter) is str else _text(submitter),
        message_id=_text(get("message-id")),
        subject=_text(get("subject")),
        from_address=_from_address(sender) if type(sender) is str else _address(_text(sender) or ""),
        date=_date(get("date")),
    )


def _transfer_decoded(encoding: str, raw: str) -> bytes | None:
    """The payload undone from base64 or quoted-printable; None for any other encoding."""
    if encoding == "base64":
        # get_payload(decode=True) silently returns undecoded text on bad base64.
        if "\r" not in raw:
            # The usual body has no blanks but its line breaks: dropped with one replace, and
            # the strict decoder refuses any other blank, so what it takes reads the same as the
            # split and join below (which cost twice as much).
            # (b64decode(validate=True) is this strict a2b_base64 behind a Python wrapper and an
            # encode, which a2b_base64 does itself for an ASCII str)
            try:
                return binascii.a2b_base64(raw.replace("\n", ""), strict_mode=True)
            except (binascii.Error, ValueError):
                pass  # said again below, with the message a refusal gives
        try:
            return base64.b64decode("".join(raw.split()), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise Rejected("bad_transfer_encoding", f"invalid base64: {exc}") from None
    if encoding == "quoted-printable":
        return quopri.decodestring(raw.encode("ascii", "surrogateescape"))
    return None


def _decode(part: Message) -> bytes:
    encoding = str(part.get("Content-Transfer-Encoding", "")).strip().lower()
    raw = part.get_payload(decode=False)
    if not isinstance(raw, str):
        raise Rejected("bad_transfer_encoding", "a leaf part has no text payload")
    decoded = _transfer_decoded(encoding, raw)
    if decoded is not None:
        return decoded
    payload = part.get_payload(decode=True)
    return payload if isinstance(payload, bytes) else b""


def _is_candidate(content_type: str, name: str | None, is_whole_message: bool) -> bool:
    maintype, _, subtype = content_type.partition("/")
    if name and name.lower().endswith(_REPORT_NAME_ENDINGS):
        return True
    if maintype == "application":
        return True
    # A report may be the whole message (DOMAIN Q3): then even text/plain is worth sniffing.
    return is_whole_message and maintype == "text" and subtype in ("plain", "json")


def _safe_filename(part: Message) -> str | None:
    try:
        name = part.get_filename()
    except (ValueError, LookupError, UnicodeError, TypeError):
        return None
    return name.replace("\x00", "\\x00") if name else None


# The stdlib parser compiles a regular expression for each multipart boundary it meets, and a
# boundary is unique per message, so `re`'s cache never helps: ~100 us a message, half of what
# parsing a report mail costs. Renamed to this fixed one first, the pattern is compiled once.
_FIXED_BOUNDARY = b"tlsrpt-warehouse-fixed-boundary"
_BOUNDARY_PARAM = re.compile(rb'(?im)^content-type:[^\r\n]*(?:\r?\n(?=[ \t])[^\r\n]*)*?[;\s]boundary="?([^"\s;]+)')
_HEADER_END = re.compile(rb"\r?\n\r?\n")
_RENAME_MAX_BYTES = 1 << 20


def _is_delimiter(line: bytes, separator: bytes) -> bool:
    """The stdlib's test for a boundary line: `--boundary`, maybe `--`, then only blanks."""
    if not line.startswith(separator):
        return False
    rest = line[len(separator):].rstrip(b"\r\n")
    return not (rest[2:] if rest.startswith(b"--") else rest).strip(b" \t")


def _with_fixed_boundary(data: bytes) -> bytes | None:
    """`data` with its top-level boundary renamed to _FIXED_BOUNDARY, or None when that cannot
    be done safely. The renaming is consistent: the old boundary must occur nowhere but in the
    Content-Type header (once) and in boundary lines, and the new one nowhere at all, so the
    parser splits the renamed message exactly where it would have split the original. Only
    for mails of ordinary size (a report mail is a few KB): the checks copy the message."""
    if len(data) > _RENAME_MAX_BYTES:
        return None
    end = _HEADER_END.search(data)
    found = _BOUNDARY_PARAM.search(data, 0, end.start() if end else 0)
    if found is None or _FIXED_BOUNDARY in data:
        return None
    boundary = found.group(1)
    if boundary.startswith(b"<"):
        return None  # get_boundary() unquotes <b> to b: the renamed token would not be the boundary
    separator = b"--" + boundary
    lines = sum(1 for line in data.splitlines(keepends=True) if _is_delimiter(line, separator))
    if data.count(boundary) != lines + 1:
        return None
    return data.replace(boundary, _FIXED_BOUNDARY)


def _parse(data: bytes) -> Message:
    renamed = _with_fixed_boundary(data)
    if renamed is not None:
        msg = email.message_from_bytes(renamed, policy=email.policy.compat32)
        if msg.get_boundary() == _FIXED_BOUNDARY.decode():
            return msg
    return email.message_from_bytes(data, policy=email.policy.compat32)  # as sent


def read_mail(data: bytes) -> tuple[MailHeaders, list[Attachment]]:
    if data.count(b"\n--") > limits.MAX_MIME_PARTS * 2:
        raise Rejected("too_many_parts", f"more than {limits.MAX_MIME_PARTS} MIME boundaries")
    fast = mime_fast.read(data)
    return _read_fast(fast) if fast is not None else _read_stdlib(data)


def _read_stdlib(data: bytes) -> tuple[MailHeaders, list[Attachment]]:
    try:
        msg = _parse(data)
    except RecursionError:
        raise Rejected("mime_too_deep", "MIME structure nests too deeply") from None
    headers = _mail_headers(msg.get)
    attachments: list[Attachment] = []
    stack: list[tuple[int, Message]] = [(0, msg)]
    leaves = 0
    while stack:
        depth, part = stack.pop()
        if depth > limits.MAX_MIME_DEPTH:
            raise Rejected("mime_too_deep", f"MIME parts nest deeper than {limits.MAX_MIME_DEPTH}")
        payload = part.get_payload()
        if isinstance(payload, list):
            stack.extend((depth + 1, child) for child in reversed(payload))
            continue
        leaves += 1
        if leaves > limits.MAX_MIME_PARTS:
            raise Rejected("too_many_parts", f"more than {limits.MAX_MIME_PARTS} MIME parts")
        name = _safe_filename(part)
        content_type = part.get_content_type()
        if _is_candidate(content_type, name, part is msg):
            attachments.append(Attachment(name, content_type, _decode(part)))
    return headers, attachments


def _read_fast(fast: mime_fast.FastMail) -> tuple[MailHeaders, list[Attachment]]:
    """read_mail's answer from the fast reading: the same steps on the same values."""
    headers = _mail_headers(fast.headers.get)
    attachments = []
    for leaf in fast.leaves:
        name = leaf.filename.replace("\x00", "\\x00") if leaf.filename else None
        if _is_candidate(leaf.content_type, name, fast.is_single_part):
            decoded = _transfer_decoded(leaf.transfer_encoding, leaf.payload)
            # the identity encodings: mime_fast reads only ASCII mails, so this is get_payload(decode=True)
            attachments.append(Attachment(name, leaf.content_type,
                                          decoded if decoded is not None else leaf.payload.encode("ascii")))
    return headers, attachments
