"""Raw input bytes -> one outcome per report found in them (or one quarantine outcome).

Containers are undone one level at a time, each behind its cap: a file may be JSON, gzip, zip
or a mail; a mail's attachments may be JSON, gzip or zip. Anything deeper is refused. A failure
in one attachment never hides its siblings: each gets its own outcome.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, replace

from pipeline.parse import containers, limits, mail
from pipeline.parse.envelope import Envelope
from pipeline.parse.rejection import Rejected
from pipeline.parse.report_parser import ParsedReport, parse_report
from pipeline.parse.sniff import looks_like_dmarc, sniff

_GZIP_TYPES = {"application/tlsrpt+gzip", "application/gzip", "application/x-gzip"}
_BASE64 = re.compile(rb"[A-Za-z0-9+/]+={0,2}")
_REPORT_KEYS = (b'"organization-name"', b'"policies"', b'"report-id"', b'"date-range"')
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_UTF32_BOMS = (b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")


@dataclass(slots=True)
class PartOutcome:
    """The fate of one report payload inside an input (part_index 0 when there is one)."""

    part_index: int
    parsed: ParsedReport | None = None
    rejected: Rejected | None = None
    attachment_name: str | None = None


def _wide_text_report(data: bytes) -> bool:
    """A report saved as UTF-16/32 with a BOM (a Windows editor, a PowerShell redirect)."""
    encoding = "utf-32" if data[:4] in _UTF32_BOMS else "utf-16" if data[:2] in _UTF16_BOMS else None
    if encoding is None:
        return False
    text = data[:4096].decode(encoding, errors="ignore")
    return any(key.decode() in text for key in _REPORT_KEYS)


def _not_report(data: bytes, kind: str) -> Rejected:
    if kind == "xml" and looks_like_dmarc(data):
        return Rejected("not_a_tls_report", "a DMARC aggregate report (XML)")
    if kind == "unknown" and _wide_text_report(data):
        # Sniffing sees no "{" behind the BOM, but this is a report in the wrong encoding, not
        # junk: name the real problem instead of filing it with ordinary mail.
        return Rejected("invalid_utf8", "UTF-16/32 text with a byte order mark; RFC 8460 JSON is UTF-8")
    return Rejected("not_a_tls_report", f"content sniffed as {kind}")


class _Budget:
    """The inflation one input may still do (limits.MAX_INFLATED_PER_INPUT), over all of its
    attachments and zip entries: a refused bomb has spent its cap."""

    __slots__ = ("left",)

    def __init__(self) -> None:
        self.left = limits.MAX_INFLATED_PER_INPUT

    def inflate(self, undo, data: bytes):
        cap = min(limits.MAX_INFLATED_BYTES, self.left)
        try:
            out = undo(data, cap)
        except Rejected as exc:
            self.left -= cap
            if cap < limits.MAX_INFLATED_BYTES and exc.code in ("gzip_too_large", "zip_too_large"):
                raise Rejected(exc.code, f"the input's attachments inflate beyond {limits.MAX_INFLATED_PER_INPUT}"
                               " bytes together") from None
            raise
        self.left -= len(out) if isinstance(out, bytes) else sum(len(inner) for _, inner in out)
        return out


def _parse_json(data: bytes, envelope: Envelope, flags: set[str]) -> ParsedReport:
    organization, policies, report_id, date_range = _REPORT_KEYS
    # Spelled out: a generator over the keys cost more than the searches themselves.
    if not (organization in data or policies in data or report_id in data or date_range in data):
        raise Rejected("not_a_tls_report", "JSON without any RFC 8460 report key")
    return parse_report(data, envelope, flags)


def _payload_reports(data: bytes, envelope: Envelope, flags: set[str], budget: _Budget,
                     kind: str | None = None) -> list[tuple[str | None, ParsedReport]]:
    """A file body or attachment body -> [(entry name, report)]; raises Rejected. `kind`: what
    sniff() said of `data`, when the caller has already asked."""
    kind = kind or sniff(data)
    if kind == "json":
        if envelope.content_type in _GZIP_TYPES:
            flags = flags | {"gzip_labelled_json"}  # DOMAIN Q2: labelled +gzip, body is JSON
        return [(None, _parse_json(data, envelope, flags))]
    if kind == "gzip":
        inner = budget.inflate(containers.gunzip, data)
        inner_kind = sniff(inner)
        if inner_kind in ("gzip", "zip"):
            raise Rejected("nested_compression", f"gzip holds {inner_kind}")
        if inner_kind != "json":
            raise _not_report(inner, inner_kind)
        return [(None, _parse_json(inner, envelope, flags))]
    if kind == "zip":
        found = []
        for name, inner in budget.inflate(containers.unzip, data):
            inner_kind = sniff(inner)
            if inner_kind in ("gzip", "zip"):
                raise Rejected("nested_compression", f"zip entry {name!r} is {inner_kind}")
            if inner_kind != "json":
                continue  # a README or DMARC XML beside the report: not ours, not fatal
            found.append((name, _parse_json(inner, replace(envelope, attachment_name=name), flags)))
        if not found:
            raise Rejected("not_a_tls_report", "zip without a JSON report entry")
        return found
    if kind == "unknown" and not flags & {"base64_file"}:
        decoded = _maybe_base64(data)
        if decoded is not None:  # a report saved as base64 text (a .b64 file from a test suite)
            return _payload_reports(decoded, envelope, flags | {"base64_file"}, budget)
    raise _not_report(data, kind)


def _maybe_base64(data: bytes) -> bytes | None:
    compact = b"".join(data.split())
    if len(compact) % 4 or not _BASE64.fullmatch(compact):
        return None
    decoded = base64.b64decode(compact)
    return decoded if sniff(decoded) in ("gzip", "json", "zip") else None


def _from_mail(data: bytes, envelope: Envelope) -> list[PartOutcome]:
    headers, attachments = mail.read_mail(data)
    outcomes: list[PartOutcome] = []
    refusals: list[PartOutcome] = []
    budget = _Budget()
    for attachment in attachments:
        # Every field set here but the channel and origin: made whole, not copied with
        # dataclasses.replace twice, which cost ~3 us a mail; by position, in Envelope's field
        # order (keywords cost 0.3 us more; tests/unit/test_mail_envelope.py checks each field).
        part_env = Envelope(
            envelope.channel, envelope.origin, headers.date or envelope.received_at,
            headers.report_domain, headers.submitter, headers.message_id, headers.subject, headers.from_address,
            attachment.name, attachment.content_type,
        )
        try:
            for name, parsed in _payload_reports(attachment.payload, part_env, set(), budget):
                outcomes.append(PartOutcome(len(outcomes), parsed, None, name or attachment.name))
        except Rejected as exc:
            if exc.code != "not_a_tls_report":  # the HTML body or a logo is not a refusal
                # without its traceback, whose frames hold the refused bytes (a bomb's cap each)
                refusals.append(PartOutcome(0, rejected=exc.with_traceback(None), attachment_name=attachment.name))
    for refusal in refusals:
        refusal.part_index = len(outcomes)
        outcomes.append(refusal)
    if not outcomes:
        if headers.report_domain:
            return [PartOutcome(0, rejected=Rejected("no_report_attachment", "TLS-Report-Domain set, no report attached"))]
        return [PartOutcome(0, rejected=Rejected("not_a_tls_report", "a mail without a TLS report"))]
    return outcomes


def extract(data: bytes, envelope: Envelope) -> tuple[str, list[PartOutcome]]:
    """Return the sniffed kind of the input and one outcome per report payload in it."""
    kind = sniff(data)
    try:
        if kind == "empty":
            raise Rejected("empty_input", "no bytes" if not data else "only white space")
        if kind == "mbox":  # one message exported with its From_ line
            newline = data.find(b"\n")
            data = data[newline + 1:] if newline >= 0 else b""
            kind = "mail"
        if kind == "mail":
            return kind, _from_mail(data, envelope)
        found = _payload_reports(data, envelope, set(), _Budget(), kind)
        return kind, [PartOutcome(i, parsed=p, attachment_name=n) for i, (n, p) in enumerate(found)]
    except Rejected as exc:
        return kind, [PartOutcome(0, rejected=exc)]
    except RecursionError:
        return kind, [PartOutcome(0, rejected=Rejected("too_deep", "structure nests too deeply"))]
    except MemoryError:
        return kind, [PartOutcome(0, rejected=Rejected("input_too_large", "ran out of memory decoding it"))]

