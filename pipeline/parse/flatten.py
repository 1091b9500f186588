"""ParsedReport -> rows of the core tables (reports, policies, failure_details).

Pure functions over one report; columns follow the RFC keys in snake_case. Computed
values (failure_detail_session_sum, totals mismatch, decoded policy strings) sit beside the
stated ones so nothing the reporter said is lost.
"""

from __future__ import annotations

import ipaddress
import time
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from pipeline import PARSER_VERSION
from pipeline.parse import limits
from pipeline.parse.envelope import filename_policy_domain
from pipeline.parse.policy_text import (
    normalise_host,
    normalise_mx_hosts,
    parse_sts,
    parse_tlsa,
    unwrap_tlsa_strings,
)
from pipeline.parse.rejection import Rejected
from pipeline.parse.report_parser import ParsedReport


@lru_cache(maxsize=65536)
def ip_is_valid(text: str | None) -> bool | None:
    if text is None:
        return None
    try:
        ipaddress.ip_address(text.strip())
    except ValueError:
        return False
    return True


@lru_cache(maxsize=65536)
def sending_network(text: str | None) -> str | None:
    """The sender's /24 (IPv4) or /64 (IPv6): one mail system often sends from many addresses."""
    if text is None:
        return None
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    return str(ipaddress.ip_network(f"{address}/{24 if address.version == 4 else 64}", strict=False))


@lru_cache(maxsize=4096)
def _sts_cached(strings: tuple[str, ...]) -> tuple[str | None, int | None, tuple[str, ...], frozenset[str]]:
    flags: set[str] = set()
    mode, max_age, mx = parse_sts(list(strings), flags)
    return mode, max_age, tuple(mx), frozenset(flags)


def _ordinary(strings: list[str]) -> bool:
    """Small enough to remember: hostile lists of texts must not fill the memory of a cache."""
    return len(strings) <= 16 and sum(map(len, strings)) <= 2048


def _sts(strings: list[str], flags: set[str]) -> tuple[str | None, int | None, list[str]]:
    """parse_sts, remembered: a domain's policy text repeats in every report about it. Only
    policy texts of ordinary size are remembered."""
    if not _ordinary(strings):
        return parse_sts(strings, flags)
    mode, max_age, mx, found = _sts_cached(tuple(strings))
    flags |= found
    return mode, max_age, list(mx)


@lru_cache(maxsize=4096)
def _mx_hosts_cached(hosts: tuple[str, ...]) -> tuple[tuple[str, ...], frozenset[str]]:
    flags: set[str] = set()
    return tuple(normalise_mx_hosts(list(hosts), flags)), frozenset(flags)


def _mx_hosts(hosts: list[str], flags: set[str]) -> list[str]:
    """normalise_mx_hosts, remembered like _sts (a domain's MX hosts repeat in every report
    about it), for lists of ordinary size only."""
    if not _ordinary(hosts):
        return normalise_mx_hosts(hosts, flags)
    normalised, found = _mx_hosts_cached(tuple(hosts))
    flags |= found
    return list(normalised)


def _contact_domain(contact: str | None) -> str | None:
    if not contact or "@" not in contact:
        return None
    return contact.rsplit("@", 1)[1].strip().rstrip(">").lower() or None


def _policy_domain(raw: str | None, envelope_domain: str | None, file_domain: str | None, flags: set[str]):
    """Missing policy-domain (old sys4, fixtures): fall back to TLS-Report-Domain, then the file name."""
    if raw:
        return normalise_host(raw), "report"
    if envelope_domain:
        flags.add("policy_domain_from_header")
        return normalise_host(envelope_domain), "mail_header"
    if file_domain:
        flags.add("policy_domain_from_filename")
        return file_domain, "filename"
    flags.add("policy_domain_unrecovered")
    return None, None


def _utc(value: datetime | str) -> datetime:
    # The strict model hands over the 'YYYY-MM-DDTHH:MM:SS[.f]Z' text it has matched by shape;
    # the calendar (month 13, day 32) is checked here.
    if not isinstance(value, str):
        return value
    try:
        return _utc_of_text(value)
    except ValueError as exc:
        raise Rejected("bad_datetime", f"{value!r}: {exc}") from None


@lru_cache(maxsize=1024)
def _utc_of_text(value: str) -> datetime:
    """Remembered (a datetime is immutable): the reports of a day share their date-range texts."""
    return datetime.fromisoformat(value)


_EARLIEST = date(*limits.EARLIEST_REPORT_DATE).toordinal()
_EPOCH = date(1970, 1, 1).toordinal()


def _plausible_day(report_date: date) -> None:
    """One report must not move every view: a date after tomorrow (the clock, in UTC) or before
    TLS-RPT existed is refused. Integer compares: time.time() is cheaper than datetime.now()."""
    day = report_date.toordinal()
    tomorrow = _EPOCH + int(time.time() // 86400) + 1
    if not _EARLIEST <= day <= tomorrow:
        raise Rejected("report_date_implausible", f"report date {report_date} is not between 2016 and tomorrow (UTC)")


Row = tuple[Any, ...]  # one row of a core table, its values in frames.SCHEMAS order


def rows_for(parsed: ParsedReport) -> tuple[Row, list[Row], list[Row]]:
    """Return (report row, policy rows, failure detail rows) for one parsed report, as tuples in
    the column order of frames.SCHEMAS (the report row without its trust columns, which the
    worker adds): tuples are built and turned into columns in C, dicts cost ~5 us a report.
    frames.named() shows a row with its column names."""
    report, flags, env = parsed.report, parsed.flags, parsed.envelope
    start, end = _utc(report.date_range.start_datetime), _utc(report.date_range.end_datetime)
    if end <= start:  # the strict path checks shapes only; order is checked here for both paths
        raise Rejected("bad_date_range", f"start {start} is not before end {end}")
    span = end - start
    if span.days > 31:
        raise Rejected("bad_date_range", f"range of {span.days} days")
    report_date = start.date()
    _plausible_day(report_date)
    if not 86399 <= span.total_seconds() <= 86400:
        flags.add("date_range_not_one_day")
    file_domain = filename_policy_domain(env.attachment_name or env.origin)
    key = parsed.report_key
    policies: list[Row] = []
    details: list[Row] = []
    domains: set[str | None] = set()
    any_ip_invalid = False
    stated_total = detailed_total = 0
    for index, result in enumerate(report.policies):
        policy = result.policy
        domain, domain_source = _policy_domain(policy.policy_domain, env.report_domain, file_domain, flags)
        domains.add(domain)
        raw_strings = list(policy.policy_string) if policy.policy_string is not None else None
        strings = raw_strings or []
        mode = max_age = None
        sts_mx: list[str] = []
        tlsa: list[dict[str, Any]] = []
        if policy.policy_type == "tlsa":
            strings = unwrap_tlsa_strings(strings, flags)
            tlsa = parse_tlsa(strings, flags)
        elif policy.policy_type == "sts":
            mode, max_age, sts_mx = _sts(strings, flags)
        detail_list = result.failure_details or []
        # Most policies have no failure details: no generator to sum nothing.
        detail_sum = sum(d.failed_session_count or 0 for d in detail_list) if detail_list else 0
        stated_failed = result.summary.total_failure_session_count
        stated_total += (result.summary.total_successful_session_count or 0) + (stated_failed or 0)
        detailed_total += detail_sum
        mismatch = stated_failed is not None and detail_sum != stated_failed
        if mismatch:
            flags.add("failures_without_details" if not detail_list else "totals_mismatch")
        policies.append((
            key, index, report_date, policy.policy_type, domain, domain_source,
            raw_strings, strings, _mx_hosts(policy.mx_host, flags),
            mode, max_age, sts_mx, tlsa,
            result.summary.total_successful_session_count, stated_failed, detail_sum, len(detail_list), mismatch,
        ))
        for detail_index, d in enumerate(detail_list):
            sending_valid, receiving_valid = ip_is_valid(d.sending_mta_ip), ip_is_valid(d.receiving_ip)
            any_ip_invalid = any_ip_invalid or sending_valid is False or receiving_valid is False
            details.append((
                key, index, detail_index, report_date, domain, d.result_type, d.failed_session_count,
                d.sending_mta_ip, sending_valid, sending_network(d.sending_mta_ip),
                normalise_host(d.receiving_mx_hostname) if d.receiving_mx_hostname else None,
                d.receiving_mx_helo, d.receiving_ip, receiving_valid,
                d.additional_information, d.failure_reason_code,
            ))
    if stated_total > limits.MAX_SESSIONS_PER_REPORT or detailed_total > limits.MAX_SESSIONS_PER_REPORT:
        raise Rejected("count_too_large", f"{max(stated_total, detailed_total)} sessions in one report"
                       f" (maximum {limits.MAX_SESSIONS_PER_REPORT})")
    if any_ip_invalid:
        flags.add("ip_invalid")
    contact_domain = _contact_domain(report.contact_info)
    if env.report_domain and normalise_host(env.report_domain) not in domains:
        flags.add("header_policy_domain_mismatch")
    if env.submitter and contact_domain and normalise_host(env.submitter) != contact_domain:
        flags.add("submitter_contact_mismatch")
    if file_domain and policies and file_domain not in domains:
        flags.add("filename_policy_domain_mismatch")
    report_row = (
        key, report.organization_name.strip(), report.report_id.strip(), report.contact_info, contact_domain,
        start, end, report_date, env.received_at, env.channel,
        parsed.extra.get("raw_sha256"), parsed.extra.get("part_index", 0), parsed.content_sha256, len(policies),
        env.report_domain, env.submitter, env.message_id, env.subject, env.attachment_name,
        sorted(flags), PARSER_VERSION,
    )
    return report_row, policies, details
