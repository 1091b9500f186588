"""Pydantic v2 models of an RFC 8460 report, lenient to every quirk real senders have
(misspelt keys, naive date-times, numbers as strings, double-encoded TLSA...).

Leniency is never silent: each accommodation adds a conformance flag to the set passed in the
validation context (`{"flags": set()}`), and the flags are stored per report so reporters can be
scored later. Fields the RFC requires but real senders omit (policy-domain, summary counts,
detail addresses) become None plus a flag; only what makes a report meaningless
(organization-name, report-id, date-range, policies) is fatal.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from annotated_types import Ge, Le, MaxLen
from pydantic import BaseModel, ConfigDict, Field, Strict, ValidationInfo, model_validator

from pipeline.parse import limits
from pipeline.parse.rejection import Rejected
from pipeline.parse.timeparse import parse_datetime
from pipeline.vocabulary import POLICY_TYPES, RESULT_TYPE_NAMES

Count = Annotated[int, Strict(), Ge(0), Le(limits.MAX_COUNT)]
Text = Annotated[str, Strict()]

KNOWN_POLICY_TYPES = frozenset(POLICY_TYPES)
KNOWN_RESULT_TYPES = frozenset(RESULT_TYPE_NAMES)


def _flags(info: ValidationInfo) -> set[str]:
    return info.context["flags"] if info.context else set()


def _clean(data: Any, known: frozenset[str], aliases: dict[str, str], flags: set[str]) -> Any:
    """Rename RFC field-list aliases, turn "" into missing, and drop (but flag) unknown keys."""
    if not isinstance(data, dict):
        return data  # pydantic reports the type error with the field path
    cleaned: dict[str, Any] = {}
    for key, value in data.items():
        if key in aliases:
            flags.add("alias_key")
            key = aliases[key]
        if key not in known:
            flags.add("unknown_key")
            continue
        if value == "":
            flags.add("empty_string_field")
            continue
        cleaned[key] = value
    return cleaned


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)


class FailureDetail(_Model):
    result_type: Text | None = Field(None, alias="result-type")
    sending_mta_ip: Text | None = Field(None, alias="sending-mta-ip")
    receiving_mx_hostname: Text | None = Field(None, alias="receiving-mx-hostname")
    receiving_mx_helo: Text | None = Field(None, alias="receiving-mx-helo")
    receiving_ip: Text | None = Field(None, alias="receiving-ip")
    failed_session_count: Count | None = Field(None, alias="failed-session-count")
    additional_information: Text | None = Field(None, alias="additional-information")
    failure_reason_code: Text | None = Field(None, alias="failure-reason-code")

    @model_validator(mode="before")
    @classmethod
    def _lenient(cls, data: Any, info: ValidationInfo) -> Any:
        flags = _flags(info)
        data = _clean(data, _DETAIL_KEYS, {"additional-info-uri": "additional-information"}, flags)
        if isinstance(data, dict):
            if "result-type" not in data:
                flags.add("result_type_missing")
            elif isinstance(data["result-type"], str) and data["result-type"] not in KNOWN_RESULT_TYPES:
                flags.add("unknown_result_type")
            if "failed-session-count" not in data:
                flags.add("failed_session_count_missing")
        return data


_DETAIL_KEYS = frozenset(f.alias for f in FailureDetail.model_fields.values())  # type: ignore[misc]


class Policy(_Model):
    policy_type: Text | None = Field(None, alias="policy-type")
    policy_string: Annotated[list[Text], MaxLen(limits.MAX_POLICY_STRINGS)] | None = Field(
        None, alias="policy-string"
    )
    policy_domain: Text | None = Field(None, alias="policy-domain")
    mx_host: Annotated[list[Text], MaxLen(limits.MAX_MX_HOSTS)] = Field(default_factory=list, alias="mx-host")

    @model_validator(mode="before")
    @classmethod
    def _lenient(cls, data: Any, info: ValidationInfo) -> Any:
        flags = _flags(info)
        data = _clean(data, _POLICY_KEYS, {"mx-host-pattern": "mx-host"}, flags)
        if not isinstance(data, dict):
            return data
        kind = data.get("policy-type")
        if kind is None:
            flags.add("policy_type_missing")
        elif isinstance(kind, str) and kind not in KNOWN_POLICY_TYPES:
            flags.add("unknown_policy_type")
        if "policy-domain" not in data:
            flags.add("policy_domain_missing")
        mx = data.get("mx-host")
        if isinstance(mx, str):  # RFC Appendix B writes a single string
            flags.add("mx_host_string")
            data["mx-host"] = [mx]
        return data


_POLICY_KEYS = frozenset(f.alias for f in Policy.model_fields.values())  # type: ignore[misc]


class Summary(_Model):
    total_successful_session_count: Count | None = Field(None, alias="total-successful-session-count")
    total_failure_session_count: Count | None = Field(None, alias="total-failure-session-count")

    @model_validator(mode="before")
    @classmethod
    def _lenient(cls, data: Any, info: ValidationInfo) -> Any:
        flags = _flags(info)
        data = _clean(data, _SUMMARY_KEYS, {}, flags)
        if isinstance(data, dict):
            for key in _SUMMARY_KEYS:
                if key not in data:
                    flags.add(key.replace("-", "_").removeprefix("total_") + "_missing")
        return data


_SUMMARY_KEYS = frozenset(f.alias for f in Summary.model_fields.values())  # type: ignore[misc]


class PolicyResult(_Model):
    policy: Policy
    summary: Summary = Field(default_factory=Summary)
    failure_details: Annotated[list[FailureDetail], MaxLen(limits.MAX_FAILURE_DETAILS)] | None = Field(
        None, alias="failure-details"
    )

    @model_validator(mode="before")
    @classmethod
    def _lenient(cls, data: Any, info: ValidationInfo) -> Any:
        flags = _flags(info)
        data = _clean(data, _RESULT_KEYS, {}, flags)
        if isinstance(data, dict) and "summary" not in data:
            flags.add("summary_missing")
        return data


_RESULT_KEYS = frozenset(f.alias or name for name, f in PolicyResult.model_fields.items())


class DateRange(_Model):
    start_datetime: datetime = Field(alias="start-datetime")
    end_datetime: datetime = Field(alias="end-datetime")

    @model_validator(mode="before")
    @classmethod
    def _parse(cls, data: Any, info: ValidationInfo) -> Any:
        if not isinstance(data, dict):
            return data
        flags = _flags(info)
        parsed = dict(data)
        for key in ("start-datetime", "end-datetime"):
            if key in data:
                parsed[key] = parse_datetime(data[key], key, flags)
        return parsed

    @model_validator(mode="after")
    def _ordered(self) -> DateRange:
        span = self.end_datetime - self.start_datetime
        if span.total_seconds() <= 0:
            raise Rejected("bad_date_range", f"start {self.start_datetime} is not before end {self.end_datetime}")
        if span.days > 31:
            raise Rejected("bad_date_range", f"range of {span.days} days")
        return self


class Report(_Model):
    organization_name: Annotated[Text, MaxLen(limits.MAX_STRING_CHARS)] = Field(alias="organization-name")
    date_range: DateRange = Field(alias="date-range")
    contact_info: Text | None = Field(None, alias="contact-info")
    report_id: Annotated[Text, MaxLen(limits.MAX_REPORT_ID_CHARS)] = Field(alias="report-id")
    policies: Annotated[list[PolicyResult], MaxLen(limits.MAX_POLICIES)] = Field(alias="policies")

    @model_validator(mode="before")
    @classmethod
    def _lenient(cls, data: Any, info: ValidationInfo) -> Any:
        flags = _flags(info)
        if not isinstance(data, dict):
            raise Rejected("schema_invalid", f"top level is a JSON {type(data).__name__}, not an object")
        data = _clean(data, _REPORT_KEYS, {}, flags)
        if data.get("contact-info") is None:
            flags.add("contact_info_missing")
        if data.get("policies") == []:
            flags.add("policies_empty")
        return data


_REPORT_KEYS = frozenset(f.alias for f in Report.model_fields.values())  # type: ignore[misc]
