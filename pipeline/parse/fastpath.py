"""The common case in C: an RFC-clean report, decoded by orjson and checked by hand.

Almost every real report is clean, and the two most frequent quirks (no contact-info, as
Stalwart sends; date-times without a zone, as Microsoft sent in 2023-24) are taken here too,
flagged exactly as the lenient model flags them. The full path (jsonsafe.py's strict decoder, whose Python
hooks run per object and per number, then pydantic building a model per object) costs ~20 us
a report inside a worker; orjson and the plain checks below cost about a third of that. This
path accepts a *subset* of what models_strict.StrictReport accepts and hands rows_for objects
with the same attributes and values, so no row and no flag depends on it: anything it does
not recognise (an unknown or aliased key, a null where a value is required, a float, a repeated
key, a BOM, trailing bytes, a NUL...) returns None and the report takes the full path, which
decides and flags as before. tests/unit/test_fastpath.py holds both paths to the same rows over
the generated, real and hostile corpora.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import orjson

from pipeline.parse import limits
from pipeline.parse.models_strict import (
    ResultType,
    StrictDateRange,
    StrictFailureDetail,
    StrictPolicy,
    StrictPolicyResult,
    StrictReport,
    StrictSummary,
)
from pipeline.vocabulary import POLICY_TYPES

ENABLED = True  # tests switch it off to compare both paths

_RESULT_TYPES = frozenset(ResultType.__args__)
_POLICY_TYPES = frozenset(POLICY_TYPES)
# ASCII digits only, and fullmatch: stricter than the pydantic pattern, never looser.
_ZULU = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:[0-5]\d(?:\.\d{1,6})?(Z?)", re.ASCII)
# Every key in the text is a string followed by a colon; strings holding `":` only add to this
# count, so "as many matches as decoded keys" proves no key was repeated (orjson keeps the last).
_KEY_IN_TEXT = re.compile(rb'"\s*:')



def _keys(model: type) -> frozenset[str]:
    """The RFC keys of an object: the aliases of the strict model's fields (written once there)."""
    return frozenset(f.alias or name for name, f in model.model_fields.items())


_REPORT_KEYS = _keys(StrictReport)
_REQUIRED_REPORT_KEYS = len(_REPORT_KEYS) - 1  # all but contact-info
_DATE_KEYS = _keys(StrictDateRange)
_RESULT_KEYS = _keys(StrictPolicyResult)
_POLICY_KEYS = _keys(StrictPolicy)
_SUMMARY_KEYS = _keys(StrictSummary)
# The optional text fields of a failure detail: (RFC key, attribute).
_DETAIL_TEXT = tuple((f.alias, name) for name, f in StrictFailureDetail.model_fields.items()
                     if name not in ("result_type", "failed_session_count"))
_DETAIL_KEYS = _keys(StrictFailureDetail)


class _NotClean(Exception):
    """Raised anywhere inside the checks, caught once in decode()."""


# The attributes rows_for reads, as slotted objects: cheaper to build than pydantic models.
class DateRange:
    __slots__ = ("start_datetime", "end_datetime")


class Policy:
    __slots__ = ("policy_type", "policy_string", "policy_domain", "mx_host")


class Summary:
    __slots__ = ("total_successful_session_count", "total_failure_session_count")


class FailureDetail:
    __slots__ = ("result_type", "failed_session_count", *(name for _, name in _DETAIL_TEXT))


class PolicyResult:
    __slots__ = ("policy", "summary", "failure_details")


class Report:
    __slots__ = ("organization_name", "date_range", "contact_info", "report_id", "policies")


def _text(value: Any) -> str:
    if type(value) is not str or not 0 < len(value) <= limits.MAX_STRING_CHARS:
        raise _NotClean
    return value


def _count(value: Any) -> int:
    if type(value) is not int or not 0 <= value <= limits.MAX_COUNT:
        raise _NotClean
    return value


def _object(value: Any, allowed: frozenset[str], keys: list[int]) -> dict:
    if type(value) is not dict or not value.keys() <= allowed:
        raise _NotClean
    keys.append(len(value))
    return value


def _texts(value: Any, cap: int) -> list[str]:
    if type(value) is not list or len(value) > cap:
        raise _NotClean
    return [_text(item) for item in value]


@lru_cache(maxsize=1024)
def _zulu_shape(value: str) -> str | None:
    """'Z' if `value` has the shape of a UTC date-time, '' if it has it without a zone, else
    None. Remembered: the reports of a day share their date-range texts."""
    match = _ZULU.fullmatch(value)
    return None if match is None else match.group(1)


def _zulu(value: Any, flags: set[str]) -> str:
    """A UTC date-time as text rows_for reads; one without a zone is UTC, flagged (timeparse)."""
    zone = _zulu_shape(value) if type(value) is str else None
    if zone is None:
        raise _NotClean
    if not zone:
        flags.add("naive_datetime")
        return value + "Z"
    return value


def _detail(raw: Any, keys: list[int]) -> FailureDetail:
    raw = _object(raw, _DETAIL_KEYS, keys)
    detail = FailureDetail()
    result_type = raw.get("result-type")
    if type(result_type) is not str or result_type not in _RESULT_TYPES:
        raise _NotClean
    detail.result_type = result_type
    detail.failed_session_count = _count(raw.get("failed-session-count"))
    for key, name in _DETAIL_TEXT:
        value = raw.get(key)
        setattr(detail, name, None if value is None else _text(value))
    return detail


def _policy_result(raw: Any, keys: list[int]) -> PolicyResult:
    raw = _object(raw, _RESULT_KEYS, keys)
    result = PolicyResult()
    raw_policy = _object(raw.get("policy"), _POLICY_KEYS, keys)
    policy = result.policy = Policy()
    policy_type = raw_policy.get("policy-type")
    if type(policy_type) is not str or policy_type not in _POLICY_TYPES:
        raise _NotClean
    policy.policy_type = policy_type
    strings = raw_policy.get("policy-string")
    policy.policy_string = None if strings is None else _texts(strings, limits.MAX_POLICY_STRINGS)
    policy.policy_domain = _text(raw_policy.get("policy-domain"))
    policy.mx_host = _texts(raw_policy["mx-host"], limits.MAX_MX_HOSTS) if "mx-host" in raw_policy else []
    raw_summary = _object(raw.get("summary"), _SUMMARY_KEYS, keys)
    summary = result.summary = Summary()
    summary.total_successful_session_count = _count(raw_summary.get("total-successful-session-count"))
    summary.total_failure_session_count = _count(raw_summary.get("total-failure-session-count"))
    details = raw.get("failure-details")
    if details is None:
        result.failure_details = None
    elif type(details) is not list or len(details) > limits.MAX_FAILURE_DETAILS:
        raise _NotClean
    else:
        result.failure_details = [_detail(item, keys) for item in details]
    return result


def _report(obj: Any, keys: list[int], flags: set[str]) -> Report:
    raw = _object(obj, _REPORT_KEYS, keys)
    contact = raw.get("contact-info")
    if len(raw) - ("contact-info" in raw) != _REQUIRED_REPORT_KEYS:
        raise _NotClean
    report = Report()
    report.organization_name = _text(raw["organization-name"])
    if contact is None:  # absent or null, as the lenient model reads it
        flags.add("contact_info_missing")
        report.contact_info = None
    else:
        report.contact_info = _text(contact)
    report_id = raw["report-id"]
    if type(report_id) is not str or not 0 < len(report_id) <= limits.MAX_REPORT_ID_CHARS:
        raise _NotClean
    report.report_id = report_id
    raw_range = _object(raw["date-range"], _DATE_KEYS, keys)
    date_range = report.date_range = DateRange()
    date_range.start_datetime = _zulu(raw_range.get("start-datetime"), flags)
    date_range.end_datetime = _zulu(raw_range.get("end-datetime"), flags)
    policies = raw["policies"]
    if type(policies) is not list or not 0 < len(policies) <= limits.MAX_POLICIES:
        raise _NotClean
    report.policies = [_policy_result(item, keys) for item in policies]
    return report


def decode(payload: bytes) -> tuple[Any, Report, set[str]] | None:
    """(decoded object, report, flags) for a clean report; None: take the full path."""
    if b"\\u0000" in payload:  # the full decoder refuses NUL in strings; orjson keeps it
        return None
    try:
        obj = orjson.loads(payload)  # refuses BOM, trailing bytes, NaN, lone surrogates, bad UTF-8
    except (orjson.JSONDecodeError, RecursionError, MemoryError):
        return None
    keys: list[int] = []
    flags: set[str] = set()
    try:
        report = _report(obj, keys, flags)
    except _NotClean:
        return None
    if sum(keys) != len(_KEY_IN_TEXT.findall(payload)):
        return None  # a key appears twice: the full decoder names it
    return obj, report, flags
