"""The diagnosis catalogue: canonical causes, what they mean for the domain owner, and the fix.

TLS-RPT reports come from the organisations that send mail TO the user's domain. A failure means
one of those senders could not deliver to the user's MX securely (or, under an enforced policy,
could not deliver at all): the thing to fix is on the user's side (MX, certificates, policy
host, DNS) unless the evidence points at the path (a STARTTLS downgrade from one network).

Every RFC 8460 result type maps to a cause; free-text `failure-reason-code` values refine it
(a catch-all `validation-failure` saying "certificate has expired" is an expired certificate)
or name a sub-cause (a policy fetch error that is a 404, a timeout, a TLS error...). The SQL
models read these tables from the `config` schema (pipeline.transform.sql_models writes them before each
build), so the catalogue lives in one place and analysts can query it.
"""

from __future__ import annotations

from typing import NamedTuple

from pipeline.vocabulary import RESULT_TYPES


class Cause(NamedTuple):
    cause: str
    title: str  # short, used in problem titles: "<title> on mx2.example.com"
    diagnosis: str  # what is happening, in the direction mail flows
    fix: str


CAUSES: tuple[Cause, ...] = (
    Cause("certificate_expired", "Expired MX certificate",
          "Servers sending mail to your domain found an expired TLS certificate on your MX.",
          "Renew the certificate, automate renewal, reload the MTA on every MX and cluster node, "
          "and check the certificate each MX really serves (openssl s_client -starttls smtp)."),
    Cause("certificate_host_mismatch", "MX certificate name mismatch",
          "Your MX presented a certificate that does not cover the host name senders connected to.",
          "Put every MX host name in the certificate's subject alternative names; keep MX records "
          "and the MTA-STS policy's mx: lines in step (a *. wildcard covers exactly one label)."),
    Cause("certificate_untrusted", "Untrusted MX certificate chain",
          "Your MX certificate chain does not reach a root the senders trust (self-signed, private CA "
          "or a missing intermediate).",
          "Use a publicly trusted CA and serve the full chain, intermediates included."),
    Cause("starttls_missing", "STARTTLS not offered",
          "Senders connected to your MX and were not offered STARTTLS, from more than one sending "
          "network: your MX (or a device in front of it) does not offer TLS.",
          "Enable STARTTLS on every MX and backend node; check firewalls or load balancers that "
          "inspect or proxy SMTP."),
    Cause("starttls_stripped", "STARTTLS stripped on one network path",
          "Only one sending network saw your MX without STARTTLS while every other sender negotiated "
          "TLS: something on that network path removes the STARTTLS offer (a downgrade, possibly an "
          "attack on mail in transit).",
          "Confirm your MX offers STARTTLS to everyone; contact the affected sender with the dates and "
          "IPs; an MTA-STS policy in enforce mode (or DANE) makes senders refuse the downgraded path."),
    Cause("sts_policy_fetch_failed", "MTA-STS policy could not be fetched",
          "Senders saw your _mta-sts DNS record but could not download "
          "https://mta-sts.<domain>/.well-known/mta-sts.txt (unreachable host, timeout, HTTP error or "
          "redirect). Senders with a cached policy keep using it; new senders fall back to no policy.",
          "Make mta-sts.<domain> resolve and answer 200 at that exact path with no redirect, monitor "
          "it, or remove the _mta-sts record if you dropped MTA-STS."),
    Cause("sts_policy_invalid", "Invalid MTA-STS policy",
          "Senders downloaded your MTA-STS policy file but it is not a valid policy.",
          "Fix the syntax (version: STSv1, mode, mx, max_age), serve it as text/plain, then bump the id "
          "in the _mta-sts record so senders refetch it."),
    Cause("sts_policy_host_certificate", "MTA-STS policy host certificate invalid",
          "The HTTPS certificate of mta-sts.<domain> failed validation (expired, wrong name, untrusted "
          "or missing intermediate), so senders cannot trust your policy.",
          "Serve a publicly trusted certificate for mta-sts.<domain> with its full chain; automate renewal."),
    Cause("mx_not_in_policy", "MX host not covered by the MTA-STS policy",
          "Senders were sent to an MX host that matches none of the mx: lines of your MTA-STS policy, so "
          "they refuse it (enforce) or report it (testing). Typical after adding or migrating an MX.",
          "Add the new MX host (or a matching *. pattern) to the policy's mx: lines, publish it, bump the "
          "id in the _mta-sts record, and keep the old entries until senders' caches expire."),
    Cause("tlsa_mismatch", "DANE TLSA mismatch",
          "Your MX certificate or key matched none of its TLSA records: usually a key or certificate "
          "rolled over without updating TLSA first.",
          "Publish TLSA records for the current and the next key before any rollover (\"3 1 1\" current + "
          "next), wait two TTLs, then switch the key."),
    Cause("dnssec_invalid", "DNSSEC validation failure",
          "Senders' validating resolvers got bogus DNSSEC answers when looking up your TLSA records.",
          "Repair DNSSEC signing: expired RRSIGs, or a DS/DNSKEY mismatch after a key roll."),
    Cause("dane_tlsa_missing", "DANE required but no TLSA found",
          "A sender requires DANE for your domain but found no DNSSEC-validated TLSA record for your MX.",
          "Publish TLSA records in a signed zone for every MX, or accept that this sender defers your mail."),
    Cause("validation_failure", "TLS validation failure",
          "Senders reported a validation failure the report does not classify further.",
          "Read the failure reason codes listed with the problem; they name the cause."),
    Cause("unknown_result_type", "Failure type outside RFC 8460",
          "A sender reported a failure type that is not in the RFC 8460 registry (kept as written).",
          "Read the sender's documentation for the type and the failure reason codes."),
    Cause("intake_stale", "No reports arriving",
          "No TLS report at all has reached the warehouse for longer than all your reporters together "
          "ever paused: the intake stopped, not the senders.",
          "Check the mailbox or folder reports are delivered to (and the fetch from it), the HTTPS "
          "receiver, and the schedule or sensor that runs the ingest (tlsrpt status shows the last run)."),
    Cause("reporter_silent", "Reporter stopped sending reports",
          "An organisation that used to send TLS reports for your domain on a regular cadence has "
          "stopped (beyond its usual gaps and late deliveries). Either it no longer sends you mail, or "
          "its reports no longer reach you (rua address, mailbox, HTTPS endpoint).",
          "Check the _smtp._tls record's rua addresses, the mailbox or endpoint receiving reports, and "
          "whether mail from that sender still arrives."),
    Cause("stale_policy", "Sender applies an outdated MTA-STS policy",
          "A sender still applies an older version of your MTA-STS policy after other senders picked "
          "up the current one: a stale cache, usually because the _mta-sts id was not bumped.",
          "Bump the id in the _mta-sts TXT record whenever the policy file changes; keep old mx entries "
          "until max_age has passed."),
)

# RFC 8460 result type -> cause (pipeline.vocabulary); anything else is unknown_result_type.
RESULT_TYPE_CAUSES: dict[str, str] = {r.name: r.cause for r in RESULT_TYPES}


class ReasonPattern(NamedTuple):
    priority: int  # the lowest matching priority wins
    pattern: str  # DuckDB regexp, matched against the lower-cased failure-reason-code
    sub_cause: str  # a finer label shown in the diagnosis ("timeout", "http_404", ...)
    cause: str | None  # when set, overrides a catch-all result type (validation-failure, unknown)


# Real texts seen: Google "sts-policy-fetch-error: HTTP 404", Postfix "Certificate expired",
# OpenSSL "unable to get local issuer certificate", "X509_V_ERR_CERT_HAS_EXPIRED", mox "mx host
# not in policy". Order matters: the MX-pattern texts also contain "does not match".
REASON_PATTERNS: tuple[ReasonPattern, ...] = (
    ReasonPattern(10, r"(not (in|listed in|covered by)|does not match any|matches no).*(policy|pattern|mx)"
                      r"|mx.*(not in|not listed|no match|does not match any)", "mx_not_in_policy", "mx_not_in_policy"),
    ReasonPattern(20, r"expired|cert_has_expired|not valid after", "expired", "certificate_expired"),
    ReasonPattern(30, r"self[- _]?signed|local issuer|untrusted|unknown ca|unable to get|chain",
                  "untrusted_chain", "certificate_untrusted"),
    ReasonPattern(40, r"host ?name|name mismatch|subject ?alt|san |does not match (the )?(host|name)",
                  "hostname_mismatch", "certificate_host_mismatch"),
    ReasonPattern(50, r"starttls", "starttls", "starttls_missing"),
    ReasonPattern(60, r"tlsa|dane", "tlsa", "tlsa_mismatch"),
    ReasonPattern(70, r"dnssec|bogus", "dnssec", "dnssec_invalid"),
    ReasonPattern(80, r"\b404\b|not found", "http_404", None),
    ReasonPattern(81, r"timed? ?out|timeout", "timeout", None),
    ReasonPattern(82, r"refused|unreachable|reset", "connection_refused", None),
    ReasonPattern(83, r"nxdomain|servfail|dns|resolve|no address", "dns_failure", None),
    ReasonPattern(84, r"redirect|\b30[12378]\b", "redirect", None),
    ReasonPattern(85, r"\b[45]\d\d\b|http", "http_error", None),
    ReasonPattern(86, r"ssl|tls|certificate|handshake", "tls_error", None),
)


def cause_of(result_type: str) -> Cause | None:
    """The catalogue entry for an RFC result type (None for types outside the registry)."""
    name = RESULT_TYPE_CAUSES.get(result_type)
    return next((c for c in CAUSES if c.cause == name), None)


def markdown() -> str:
    """The catalogue table of docs/detection.md (a test keeps the page equal to this)."""
    by_cause: dict[str, list[str]] = {}
    for result_type, cause in RESULT_TYPE_CAUSES.items():
        by_cause.setdefault(cause, []).append(f"`{result_type}`")
    for p in REASON_PATTERNS:
        if p.cause:
            by_cause.setdefault(p.cause, []).append(f"reason text naming `{p.sub_cause}`")
    by_cause["mx_not_in_policy"].insert(0, "an MX no `mx:` line of the applied policy matches")
    rows = ["| cause | from | title | diagnosis | fix |", "|---|---|---|---|---|"]
    rows += [f"| `{c.cause}` | {'; '.join(by_cause.get(c.cause, ['(derived, see detectors)']))} | {c.title} | "
             f"{c.diagnosis} | {c.fix} |" for c in CAUSES]
    return "\n".join(rows)
