"""The HTTPS rua endpoint (RFC 8460 section 5.4): `tlsrpt serve` runs this ASGI app.

A POSTed report is checked (size, media type, that it is a TLS report, optionally that its
policy domain is ours), then its bytes are written durably into the spool folder
`<data>/spool/https/` (temp file, fsync, rename, fsync of the folder) before we answer 201, or
200 when the same bytes were already spooled. The pipeline lands the spool like the inbox (the
inbox sensor and `tlsrpt run` read both), with channel `https`. Anything refused gets a 4xx a
sender can act on; senders retry non-2xx answers for up to a day (RFC 8460 section 5.5).
"""

from __future__ import annotations

import asyncio
import errno
import hashlib
import logging
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route

from pipeline.intake.spool import write_durably
from pipeline.parse.envelope import Envelope
from pipeline.parse.extract import PartOutcome, extract
from pipeline.parse.policy_text import is_ascii_number, normalise_host

# RFC 8460 names the +gzip and +json types; generic ones are sniffed and accepted when the body
# is a report (senders and proxies relabel); anything else is refused as 415.
REPORT_TYPES = {"application/tlsrpt+gzip", "application/tlsrpt+json"}
LENIENT_TYPES = {"application/gzip", "application/x-gzip", "application/json", "application/octet-stream"}
# Refusals for a body that inflates past the parser's cap: too large, like a body over --max-body.
TOO_LARGE = {"gzip_too_large", "zip_too_large", "input_too_large"}
# The disk (or the quota) is full: 507 says "not stored, try later" without blaming the sender.
FULL = {errno.ENOSPC, errno.EDQUOT}

logger = logging.getLogger("uvicorn.error")


@dataclass(frozen=True)
class ReceiverConfig:
    spool_dir: Path
    max_body_bytes: int = 10 * 1024 * 1024  # "ten megabytes" is the common receiver limit (RFC 8460 5.2)
    body_deadline_seconds: float = 30.0  # total, not per read: a trickling client is cut off
    allowed_domains: frozenset[str] = field(default_factory=frozenset)  # empty: accept any domain
    mta_sts_dir: Path | None = None  # <domain>.txt policy files to host (pipeline/posture/hosting.py)
    # Bodies decoded at once, each in its own thread: each may inflate to the parser's cap
    # (20 MiB, ~40 MiB with its copies), so the receiver's memory grows with this number, not with
    # the bombs POSTed at once; more would not decode faster than the cores allow.
    decode_slots: int = field(default_factory=lambda: min(4, os.cpu_count() or 1))


def _answer(status: int, message: str) -> JSONResponse:
    return JSONResponse({"status": status, "message": message}, status_code=status)


async def _read_body(request: Request, config: ReceiverConfig) -> bytes | JSONResponse:
    declared = request.headers.get("content-length")
    if declared is not None:
        if not is_ascii_number(declared):
            return _answer(400, "Content-Length is not a number")
        if int(declared) > config.max_body_bytes:
            return _answer(413, f"the body is larger than {config.max_body_bytes} bytes")
    deadline = time.monotonic() + config.body_deadline_seconds
    chunks, size = [], 0
    stream = request.stream().__aiter__()
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return _answer(408, f"the body took longer than {config.body_deadline_seconds:g} s")
        try:
            chunk = await asyncio.wait_for(stream.__anext__(), timeout=remaining)
        except StopAsyncIteration:
            break
        except asyncio.TimeoutError:
            return _answer(408, f"the body took longer than {config.body_deadline_seconds:g} s")
        size += len(chunk)
        if size > config.max_body_bytes:
            return _answer(413, f"the body is larger than {config.max_body_bytes} bytes")
        chunks.append(chunk)
    try:
        return b"".join(chunks)
    finally:
        # This frame outlives the call, in a cycle through the exception wait_for raised at the
        # end of the stream (its traceback), until the cyclic GC runs: drop the pieces now.
        chunks.clear()


def _decode(body: bytes) -> list[PartOutcome]:
    """The outcomes of one body. A refusal's traceback is dropped: it holds the parser's frames,
    and with them the inflated bytes (up to the parser's cap), in a reference cycle that only the
    cyclic garbage collector frees, so a run of bombs piled up ~20 MiB each (measured)."""
    _, outcomes = extract(body, Envelope(channel="https"))
    for outcome in outcomes:
        error: BaseException | None = outcome.rejected
        while error is not None:  # and the errors it was raised while handling
            error.__traceback__ = None
            error = error.__context__
    return outcomes


def _spool(config: ReceiverConfig, body: bytes) -> bool:
    """Write the body durably under its sha256; False when those bytes were already spooled."""
    return write_durably(config.spool_dir, f"{hashlib.sha256(body).hexdigest()}.report", body)


def make_app(config: ReceiverConfig) -> Starlette:
    decoder = ThreadPoolExecutor(max_workers=config.decode_slots, thread_name_prefix="tlsrpt-decode")

    async def receive_report(request: Request):
        media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type not in REPORT_TYPES | LENIENT_TYPES:
            return _answer(415, "send application/tlsrpt+gzip or application/tlsrpt+json (RFC 8460 5.4)")
        try:
            body = await _read_body(request, config)
        except ClientDisconnect:
            return _answer(400, "the client went away before the body ended")
        if isinstance(body, JSONResponse):
            return body
        if not body:
            return _answer(400, "the body is empty")
        try:
            # Decoding is CPU work: off the event loop, so one big body does not stall the others.
            outcomes = await asyncio.get_running_loop().run_in_executor(decoder, _decode, body)
        except Exception as exc:  # a parser bug must not become a 500 and a traceback per retry
            logger.warning("refused a body the parser failed on: %s: %s", type(exc).__name__, exc)
            return _answer(400, f"not accepted: internal_error: the report could not be parsed ({type(exc).__name__})")
        reports = [o.parsed for o in outcomes if o.parsed is not None]
        if not reports:
            refusal = outcomes[0].rejected
            return _answer(413 if refusal.code in TOO_LARGE else 400, f"not accepted: {refusal.code}: {refusal.detail}")
        if config.allowed_domains:
            # Every policy domain must be ours: an allowed one must not carry a stranger's numbers in.
            domains = {normalise_host(p.policy.policy_domain) if p.policy.policy_domain else None
                       for r in reports for p in r.report.policies}
            foreign = sorted(d or "(none)" for d in domains - config.allowed_domains)
            if foreign or not domains:
                return _answer(403, f"policy domain(s) {foreign or ['(none)']} are not served here")
        try:
            fresh = await asyncio.to_thread(_spool, config, body)
        except OSError as exc:
            full = exc.errno in FULL
            logger.error("could not spool a report: %s", exc.strerror or exc)
            return _answer(507 if full else 503, "the receiver's disk is full; retry later" if full
                           else "the receiver cannot store reports right now; retry later")
        return _answer(201 if fresh else 200, "stored" if fresh else "already have this report")

    async def health(_: Request):
        return PlainTextResponse("ok")

    from pipeline.posture.hosting import policy_route

    return Starlette(routes=[
        Route("/", receive_report, methods=["POST"]),
        Route("/tlsrpt", receive_report, methods=["POST"]),
        Route("/healthz", health, methods=["GET"]),
    ] + ([policy_route(config.mta_sts_dir)] if config.mta_sts_dir else []))
