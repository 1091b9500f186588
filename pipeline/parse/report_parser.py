"""One report payload (JSON bytes) plus its envelope -> a validated, flagged ParsedReport."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import orjson
from pydantic import ValidationError

from pipeline.parse import fastpath, limits
from pipeline.parse.envelope import Envelope
from pipeline.parse.jsonsafe import decode_report_json
from pipeline.parse.models import Report
from pipeline.parse.models_strict import StrictReport
from pipeline.parse.rejection import Rejected


@dataclass(slots=True)
class ParsedReport:
    report: Report | StrictReport | fastpath.Report
    flags: set[str]
    report_key: str
    content_sha256: str
    envelope: Envelope
    extra: dict[str, Any] = field(default_factory=dict)
    payload: bytes = b""  # the report's JSON exactly as sent (for showing the raw report)


def report_key(organization_name: str, report_id: str) -> str:
    """Stable identity: organization-name + report-id, never the
    Message-ID, subject or file name. Hashed so the key has a fixed, URL-safe shape."""
    digest = hashlib.sha256(f"{organization_name.strip()}\x1f{report_id.strip()}".encode())
    return digest.hexdigest()[:32]


def _validation_rejection(exc: ValidationError) -> Rejected:
    error = exc.errors(include_url=False)[0]
    where = ".".join(str(part) for part in error["loc"]) or "report"
    if error["type"] == "missing":
        return Rejected("schema_missing_field", f"{where} is missing")
    if error["type"] == "too_long":
        return Rejected("too_many_items", f"{where}: {error['msg']}")
    if error["type"] == "less_than_equal":  # only counts have an upper bound (limits.MAX_COUNT)
        return Rejected("count_too_large", f"{where}: {error['msg']}")
    if error["type"] == "string_too_long":
        # report-id is capped at 255 (it is part of the identity key): the same refusal as a
        # string over the 64 KB cap, not a generic schema error.
        return Rejected("string_too_long", f"{where}: {error['msg']}")
    return Rejected("schema_invalid", f"{where}: {error['msg']}")


def canonical_sha256(obj: Any) -> str:
    """Hash of the decoded report, independent of whitespace, key order and compression, so the
    same report mailed and posted compares equal."""
    return hashlib.sha256(orjson.dumps(obj, option=orjson.OPT_SORT_KEYS)).hexdigest()


def _validate(obj: Any, flags: set[str]) -> Report | StrictReport:
    """Strict model first (pure pydantic-core, a few us); anything it refuses goes through the
    lenient model, which accepts the quirk and flags it, or refuses the report with a reason."""
    try:
        return StrictReport.model_validate(obj)
    except ValidationError:
        pass
    try:
        return Report.model_validate(obj, context={"flags": flags})
    except ValidationError as exc:
        raise _validation_rejection(exc) from None


def parse_report(payload: bytes, envelope: Envelope, extra_flags: set[str] | None = None) -> ParsedReport:
    """Clean reports take fastpath.py; the rest (and every report when fastpath.ENABLED is
    off, as the tests do to compare) the strict decoder and the models."""
    # Free for a real report: only a payload longer than the cap can hold more containers.
    if len(payload) > limits.MAX_JSON_CONTAINERS and payload.count(b"{") + payload.count(b"[") > limits.MAX_JSON_CONTAINERS:
        raise Rejected("too_many_items", f"more than {limits.MAX_JSON_CONTAINERS} JSON objects and arrays")
    clean = fastpath.decode(payload) if fastpath.ENABLED else None
    if clean is not None:
        obj, report, flags = clean
        flags |= extra_flags or set()
    else:
        obj, json_flags = decode_report_json(payload)
        flags = set(json_flags) | (extra_flags or set())
        report = _validate(obj, flags)
    organization = report.organization_name.strip()
    report_id = report.report_id.strip()
    if not organization:
        raise Rejected("schema_missing_field", "organization-name is empty")
    if not report_id:
        raise Rejected("schema_missing_field", "report-id is empty")
    return ParsedReport(
        report=report,
        flags=flags,
        report_key=report_key(organization, report_id),
        content_sha256=canonical_sha256(obj),
        envelope=envelope,
        payload=payload,
    )
