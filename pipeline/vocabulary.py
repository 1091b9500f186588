"""The RFC 8460 vocabulary, written out once: policy types and result types (with their group,
their diagnosis cause and what each means for the domain owner).

Everything else derives from here: the lenient and strict report models, the fast path, the
`config.result_types` and `config.policy_types` tables the SQL models join (pipeline.transform.sql_models
writes them before each build), the cause of each result type (pipeline.detect.causes) and the
dashboard's meanings (app/meanings.py). A test keeps any other file from listing them again.
"""

from __future__ import annotations

from typing import NamedTuple

# RFC 8460 section 4.2: what a sender applied to the domain.
POLICY_TYPES: tuple[str, ...] = ("sts", "tlsa", "no-policy-found")


class ResultType(NamedTuple):
    name: str  # as the IANA "STARTTLS Validation Result Types" registry spells it
    group: str  # RFC 8460 section 4.3: negotiation ("general"), MTA-STS ("sts") or DANE ("tlsa")
    cause: str  # its diagnosis in pipeline.detect.causes.CAUSES
    meaning: str  # for the domain owner, in the direction mail flows (to their MX)


# The order is the generator's too (its random choices index into it): keep it.
RESULT_TYPES: tuple[ResultType, ...] = (
    ResultType("starttls-not-supported", "general", "starttls_missing",
               "Your MX did not offer STARTTLS (or something in the path removed it)."),
    ResultType("certificate-host-mismatch", "general", "certificate_host_mismatch",
               "Your MX certificate does not cover the name senders connected to."),
    ResultType("certificate-expired", "general", "certificate_expired", "Your MX certificate had expired."),
    ResultType("certificate-not-trusted", "general", "certificate_untrusted",
               "Your MX certificate chain does not reach a trusted root."),
    ResultType("validation-failure", "general", "validation_failure",
               "Another validation problem; the reason code says which."),
    ResultType("sts-policy-fetch-error", "sts", "sts_policy_fetch_failed",
               "Senders saw your _mta-sts record but could not download the policy file."),
    ResultType("sts-policy-invalid", "sts", "sts_policy_invalid",
               "The policy file was fetched but is not a valid MTA-STS policy."),
    ResultType("sts-webpki-invalid", "sts", "sts_policy_host_certificate",
               "The HTTPS certificate of mta-sts.<domain> failed validation."),
    ResultType("tlsa-invalid", "tlsa", "tlsa_mismatch", "Your MX certificate or key matched none of its TLSA records."),
    ResultType("dnssec-invalid", "tlsa", "dnssec_invalid",
               "Senders got bogus DNSSEC answers looking up your TLSA records."),
    ResultType("dane-required", "tlsa", "dane_tlsa_missing",
               "A sender requires DANE but found no validated TLSA record for your MX."),
)

RESULT_TYPE_NAMES: tuple[str, ...] = tuple(r.name for r in RESULT_TYPES)
BY_NAME: dict[str, ResultType] = {r.name: r for r in RESULT_TYPES}


def of_group(group: str) -> tuple[str, ...]:
    return tuple(r.name for r in RESULT_TYPES if r.group == group)


def in_words(values: tuple[str, ...]) -> str:
    """`sts, tlsa or no-policy-found`, for messages and column comments."""
    return f"{', '.join(values[:-1])} or {values[-1]}"
