"""The RFC-clean shape of a report, validated entirely inside pydantic-core (no Python hooks).

Almost every real report is clean: validating it against this model costs a few microseconds,
where the lenient model (models.py) runs a Python hook per object to notice and flag quirks.
Anything unusual (an unknown key or type, an empty string, a null, a string mx-host, a naive or
leap-second date-time, a number out of range...) fails this model, and the report is validated
again by the lenient one, which records why. So flags never depend on which path was taken.
"""

from __future__ import annotations

from typing import Annotated, Literal

from annotated_types import Ge, Le, MaxLen, MinLen
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from pipeline.parse import limits
from pipeline.vocabulary import POLICY_TYPES, RESULT_TYPE_NAMES

Count = Annotated[int, Field(strict=True), Ge(0), Le(limits.MAX_COUNT)]
Text = Annotated[str, StringConstraints(strict=True, min_length=1, max_length=limits.MAX_STRING_CHARS)]
# Only the one shape every big reporter sends; the C parser reads it (timeparse.py vouches).
ZuluTime = Annotated[str, StringConstraints(strict=True, pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-5][0-9](\.[0-9]{1,6})?Z$")]
# Literal of a tuple is the Literal of its items: the registry's values, checked in Rust.
PolicyType = Literal[POLICY_TYPES]  # type: ignore[valid-type]
ResultType = Literal[RESULT_TYPE_NAMES]  # type: ignore[valid-type]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class StrictFailureDetail(_Strict):
    result_type: ResultType = Field(alias="result-type")
    sending_mta_ip: Text | None = Field(None, alias="sending-mta-ip")
    receiving_mx_hostname: Text | None = Field(None, alias="receiving-mx-hostname")
    receiving_mx_helo: Text | None = Field(None, alias="receiving-mx-helo")
    receiving_ip: Text | None = Field(None, alias="receiving-ip")
    failed_session_count: Count = Field(alias="failed-session-count")
    additional_information: Text | None = Field(None, alias="additional-information")
    failure_reason_code: Text | None = Field(None, alias="failure-reason-code")


class StrictPolicy(_Strict):
    policy_type: PolicyType = Field(alias="policy-type")
    policy_string: Annotated[list[Text], MaxLen(limits.MAX_POLICY_STRINGS)] | None = Field(None, alias="policy-string")
    policy_domain: Text = Field(alias="policy-domain")
    mx_host: Annotated[list[Text], MaxLen(limits.MAX_MX_HOSTS)] = Field(default_factory=list, alias="mx-host")


class StrictSummary(_Strict):
    total_successful_session_count: Count = Field(alias="total-successful-session-count")
    total_failure_session_count: Count = Field(alias="total-failure-session-count")


class StrictPolicyResult(_Strict):
    policy: StrictPolicy
    summary: StrictSummary
    failure_details: Annotated[list[StrictFailureDetail], MaxLen(limits.MAX_FAILURE_DETAILS)] | None = Field(
        None, alias="failure-details"
    )


class StrictDateRange(_Strict):
    start_datetime: ZuluTime = Field(alias="start-datetime")
    end_datetime: ZuluTime = Field(alias="end-datetime")


class StrictReport(_Strict):
    organization_name: Text = Field(alias="organization-name")
    date_range: StrictDateRange = Field(alias="date-range")
    contact_info: Text = Field(alias="contact-info")
    report_id: Annotated[str, StringConstraints(strict=True, min_length=1, max_length=limits.MAX_REPORT_ID_CHARS)] = Field(
        alias="report-id"
    )
    policies: Annotated[list[StrictPolicyResult], MinLen(1), MaxLen(limits.MAX_POLICIES)] = Field(alias="policies")
