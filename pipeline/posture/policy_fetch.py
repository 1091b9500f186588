"""Fetch `https://mta-sts.DOMAIN/.well-known/mta-sts.txt` as a sender would (RFC 8461 3.3):
certificate valid for that name, 200 without following redirects, text/plain, size-capped,
with a total deadline (httpx timeouts are per read: a trickling host would never trip one)."""

from __future__ import annotations

import ssl
import time

import httpcore
import httpx

from pipeline.posture.addresses import not_public
from pipeline.posture.config import ProbeConfig
from pipeline.posture.result import ERROR, FAIL, OK, WARN, CheckResult
from pipeline.posture.sts_policy import parse_policy


class _Dial(httpcore.SyncBackend):
    """Keeps the URL and SNI name real while dialling the configured address and port (tests)."""

    def __init__(self, address: str, port: int) -> None:
        self.address, self.port = address, port

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        return super().connect_tcp(self.address or host, self.port, timeout, local_address, socket_options)


def _client(config: ProbeConfig) -> httpx.Client:
    context = config.ssl_context()
    transport = httpx.HTTPTransport(verify=context)
    if config.connect_address or config.https_port != 443:
        # httpx has no public hook for the network backend: swap its pool.
        transport._pool = httpcore.ConnectionPool(ssl_context=context, network_backend=_Dial(config.connect_address, config.https_port))
    return httpx.Client(transport=transport, follow_redirects=False, timeout=httpx.Timeout(config.timeout), trust_env=False)


def _tls_reason(exc: BaseException) -> tuple[str, str]:
    cause = exc
    while cause is not None and not isinstance(cause, ssl.SSLError):
        cause = cause.__cause__ or cause.__context__
    if isinstance(cause, ssl.SSLCertVerificationError):
        message = cause.verify_message or str(cause)
        if "expired" in message:
            return "certificate_expired", f"the certificate has expired ({message})"
        if "mismatch" in message or "doesn't match" in message:
            return "certificate_name_mismatch", f"the certificate is not valid for this name ({message})"
        return "certificate_untrusted", f"the certificate does not verify ({message})"
    if cause is not None:
        return "tls_error", f"TLS handshake failed: {cause}"[:300]
    return "unreachable", f"cannot connect: {exc}"[:300]


def _download(client: httpx.Client, url: str, config: ProbeConfig) -> tuple[str, str, bytes, dict]:
    """(reason, detail, body, facts); reason "" when the body is a candidate policy."""
    deadline = time.monotonic() + config.deadline
    with client.stream("GET", url) as response:
        facts = {"status": response.status_code, "content_type": response.headers.get("content-type", "")}
        if 300 <= response.status_code < 400:
            return "redirect", f"HTTP {response.status_code} to {response.headers.get('location', '?')!r}: senders do not follow redirects", b"", facts
        if response.status_code != 200:
            return "http_status", f"HTTP {response.status_code} (senders need 200)", b"", facts
        media = facts["content_type"].split(";")[0].strip().lower()
        if media != "text/plain":
            return "wrong_content_type", f"Content-Type {facts['content_type']!r}, senders need text/plain", b"", facts
        body = bytearray()
        for chunk in response.iter_raw():
            body += chunk
            if len(body) > config.policy_max_bytes:
                return "too_large", f"the policy is larger than {config.policy_max_bytes} bytes", bytes(body[:512]), facts
            if time.monotonic() > deadline:
                return "timeout", f"the policy took longer than {config.deadline:g} s to download", bytes(body[:512]), facts
        return "", "", bytes(body), facts


def check_policy(domain: str, config: ProbeConfig) -> tuple[CheckResult, dict]:
    """The check result and, when the file parsed as valid, its facts (mode, mx patterns, max_age)."""
    url = f"https://mta-sts.{domain}/.well-known/mta-sts.txt"
    result = lambda verdict, reason, detail, raw=b"", facts=None: CheckResult(  # noqa: E731
        "sts_policy", domain, url, verdict, reason, detail, raw, facts or {})
    refused = not_public(f"mta-sts.{domain}", config.https_port, config)
    if refused:
        return result(ERROR, "private_address", refused), {}
    try:
        with _client(config) as client:
            reason, detail, body, facts = _download(client, url, config)
    except httpx.TimeoutException as exc:
        return result(FAIL, "timeout", f"no answer within {config.timeout:g} s ({type(exc).__name__})"), {}
    except (httpx.HTTPError, OSError, ssl.SSLError) as exc:
        reason, detail = _tls_reason(exc)
        return result(FAIL, reason, detail), {}
    if reason:
        return result(FAIL, reason, detail, body, facts), {}
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return result(FAIL, "not_text", "the policy is not UTF-8 text", body, facts), {}
    policy = parse_policy(text)
    facts |= policy.facts()
    if not policy.valid:
        code, detail = policy.problems[0]
        more = f" (+{len(policy.problems) - 1} more)" if len(policy.problems) > 1 else ""
        return result(FAIL, code, detail + more, body, facts | {"problems": policy.problems}), {}
    if policy.warnings:
        return result(WARN, *policy.warnings[0], body, facts), policy.facts()
    return result(OK, "valid", f"mode {policy.mode}, {len(policy.mx)} mx pattern(s), max_age {policy.max_age}", body, facts), policy.facts()
