"""Probe one MX as a sending MTA would: EHLO, STARTTLS, the TLS handshake and its certificate."""

from __future__ import annotations

import smtplib
import socket
import ssl
import threading
from dataclasses import dataclass, field

from pipeline.posture.addresses import not_public
from pipeline.posture.certificate import describe, name_matches
from pipeline.posture.config import ProbeConfig
from pipeline.posture.result import ERROR, FAIL, OK, WARN, CheckResult

OLD_TLS = {"TLSv1", "TLSv1.1", "SSLv3"}  # RFC 8996 deprecates them


@dataclass
class Probe:
    reason: str = ""  # "" when the handshake completed
    detail: str = ""
    banner: str = ""
    tls_version: str = ""
    der: bytes = b""
    verify_error: str = ""  # why the chain did not verify against the trust store
    facts: dict = field(default_factory=dict)


def _cut(smtp: smtplib.SMTP) -> None:
    try:
        if smtp.sock is not None:
            smtp.sock.shutdown(socket.SHUT_RDWR)  # unblocks the read in the probing thread
    except OSError:
        pass


def _quit(smtp: smtplib.SMTP) -> None:
    try:
        smtp.quit()  # polite: the MX logs a clean session, not a dropped connection
    except (OSError, smtplib.SMTPException):
        smtp.close()


def _handshake(mx: str, config: ProbeConfig, context: ssl.SSLContext, probe: Probe) -> smtplib.SMTP | None:
    """Connect, EHLO, STARTTLS, wrap; a watchdog cuts a server that trickles answers for ever."""
    smtp = smtplib.SMTP(timeout=config.timeout)
    watchdog = threading.Timer(config.deadline, _cut, (smtp,))
    watchdog.start()
    try:
        code, banner = smtp.connect(config.connect_address or mx, config.smtp_port)
        probe.banner = banner.decode("utf-8", "replace")
        smtp.ehlo("posture-check.invalid")
        if not smtp.has_extn("starttls"):
            probe.reason, probe.detail = "starttls_not_offered", f"{mx} does not offer STARTTLS after EHLO"
            smtp.close()
            return None
        code, message = smtp.docmd("STARTTLS")
        if code != 220:
            probe.reason, probe.detail = "starttls_refused", f"STARTTLS answered {code} {message.decode('utf-8', 'replace')[:100]}"
            smtp.close()
            return None
        # The SNI and the name checked are the MX name, whatever address was dialled. Then
        # smtplib talks over TLS as its own starttls() would leave it (for the QUIT).
        smtp.sock, smtp.file = context.wrap_socket(smtp.sock, server_hostname=mx), None
        return smtp
    except BaseException:
        smtp.close()
        raise
    finally:
        watchdog.cancel()


def probe_mx(mx: str, config: ProbeConfig) -> Probe:
    probe = Probe()
    refused = not_public(mx, config.smtp_port, config)
    if refused:
        probe.reason, probe.detail = "private_address", refused
        return probe
    verifying = config.ssl_context()
    verifying.check_hostname = False  # the name is judged separately, so an expired cert still shows its names
    try:
        try:
            tls = _handshake(mx, config, verifying, probe)
        except ssl.SSLCertVerificationError as exc:
            probe.verify_error = exc.verify_message or str(exc)
            lenient = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            lenient.check_hostname, lenient.verify_mode = False, ssl.CERT_NONE
            tls = _handshake(mx, config, lenient, Probe())
        if tls is not None:
            probe.tls_version, probe.der = tls.sock.version() or "", tls.sock.getpeercert(binary_form=True) or b""
            _quit(tls)
    except socket.timeout:
        probe.reason, probe.detail = "smtp_timeout", f"{mx}:{config.smtp_port} did not answer within {config.timeout:g} s"
    except ssl.SSLError as exc:
        probe.reason, probe.detail = "tls_handshake_failed", f"TLS handshake with {mx} failed: {exc}"[:300]
    except smtplib.SMTPException as exc:  # e.g. a line over smtplib's 8 KB limit, or a garbled reply
        probe.reason, probe.detail = "smtp_protocol_error", f"{mx}:{config.smtp_port}: {type(exc).__name__}: {exc}"[:300]
    except OSError as exc:
        probe.reason, probe.detail = "smtp_unreachable", f"{mx}:{config.smtp_port}: {type(exc).__name__}: {exc}"[:300]
    return probe


def starttls_results(domain: str, mx: str, probe: Probe, config: ProbeConfig) -> list[CheckResult]:
    """The `starttls` result and, once a certificate was seen, the `mx_certificate` result."""
    def result(check, verdict, reason, detail, facts=None):
        return CheckResult(check, domain, mx, verdict, reason, detail, probe.banner, facts or {})

    if probe.reason in ("smtp_timeout", "smtp_unreachable", "private_address"):
        # Often port 25 blocked on our side, not the MX: "could not tell".
        return [result("starttls", ERROR, probe.reason, probe.detail)]
    if probe.reason:
        return [result("starttls", FAIL, probe.reason, probe.detail)]
    tls = {"tls_version": probe.tls_version}
    if probe.tls_version in OLD_TLS:
        out = [result("starttls", WARN, "old_tls_version", f"{mx} negotiated {probe.tls_version} (deprecated, RFC 8996)", tls)]
    else:
        out = [result("starttls", OK, "offered", f"STARTTLS with {probe.tls_version}", tls)]
    cert = describe(probe.der)
    cert |= {"chain_trusted": not probe.verify_error, "verify_error": probe.verify_error, "name_match": name_matches(mx, cert["names"])}
    days = cert["days_to_expiry"]
    if cert["expired"]:
        out.append(result("mx_certificate", FAIL, "certificate_expired", f"the certificate expired on {cert['not_after'][:10]}", cert))
    elif probe.verify_error:
        out.append(result("mx_certificate", FAIL, "certificate_untrusted", f"the chain does not verify: {probe.verify_error}", cert))
    elif not cert["name_match"]:
        out.append(result("mx_certificate", FAIL, "certificate_name_mismatch",
                          f"the certificate names {', '.join(cert['names'][:5]) or 'nothing'}, not {mx}", cert))
    elif days < config.expiry_warn_days:
        out.append(result("mx_certificate", WARN, "certificate_expiring", f"the certificate expires in {days} days ({cert['not_after'][:10]})", cert))
    else:
        out.append(result("mx_certificate", OK, "valid", f"valid for {mx}, {days} days left, issued by {cert['issuer'][:80]}", cert))
    return out
