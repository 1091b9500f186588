"""Connection limits of `tlsrpt serve` that uvicorn lacks: a deadline for a request's head and a
cap on the connections one client address may hold.

uvicorn counts every open connection against `--limit-concurrency`, including one that has sent
half a header and then nothing, and it never times a header out: 200 connections
trickling headers made every honest POST get 503. So each connection must complete its request
head within `header_timeout` seconds of connecting (or of the first byte of a next request on a
kept-alive connection), else it gets 408 and is closed; and an address holding `per_client`
connections has its next one answered 503 at once and closed, before it counts against the
shared limit. The body has its own total deadline in the app (receiver.py, `--body-deadline`).
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

logger = logging.getLogger("uvicorn.error")


def _refusal(status: str, message: str) -> bytes:
    body = message.encode()
    head = (f"HTTP/1.1 {status}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: {len(body)}\r\n"
            "connection: close\r\nretry-after: 60\r\n\r\n")
    return head.encode() + body


def guarded_protocol(header_timeout: float, per_client: int) -> type[HttpToolsProtocol]:
    """The uvicorn protocol class (`uvicorn.run(http=...)`) with both limits applied."""

    class GuardedProtocol(HttpToolsProtocol):
        _head_timer: asyncio.TimerHandle | None = None
        _counted: str | None = None  # the client address this connection is counted under

        def _per_client(self) -> Counter:
            # Shared by every connection of this server (one ServerState per server).
            if not hasattr(self.server_state, "tlsrpt_per_client"):
                self.server_state.tlsrpt_per_client = Counter()
                self.server_state.tlsrpt_refusing = set()  # addresses told once, not per connection
            return self.server_state.tlsrpt_per_client

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            address = self.client[0] if self.client else "?"
            held = self._per_client()
            if held[address] >= per_client:
                # Out of the shared count at once: this connection is gone before it can crowd anyone.
                self.connections.discard(self)
                if address not in self.server_state.tlsrpt_refusing:
                    self.server_state.tlsrpt_refusing.add(address)
                    logger.warning("refusing connections from %s: it holds %d already (--client-connections)",
                                   address, held[address])
                transport.write(_refusal("503 Service Unavailable", f"too many connections from {address}\n"))
                transport.close()
                return
            held[address] += 1
            self._counted = address
            self._arm_head_timer()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm_head_timer()
            if self._counted is not None:
                held = self._per_client()
                held[self._counted] -= 1
                if held[self._counted] <= 0:
                    del held[self._counted]
                self.server_state.tlsrpt_refusing.discard(self._counted)
                self._counted = None
            super().connection_lost(exc)

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self._arm_head_timer()  # a kept-alive connection starts its next request: a new deadline

        def on_headers_complete(self) -> None:
            self._disarm_head_timer()
            super().on_headers_complete()

        def _arm_head_timer(self) -> None:
            if self._head_timer is None:
                self._head_timer = self.loop.call_later(header_timeout, self._head_too_slow)

        def _disarm_head_timer(self) -> None:
            if self._head_timer is not None:
                self._head_timer.cancel()
                self._head_timer = None

        def _head_too_slow(self) -> None:
            self._head_timer = None
            if self.transport.is_closing():
                return
            # A connection idle since its last answer is the keep-alive timer's; this one is mid-head
            # (or never sent anything since it connected).
            logger.info("closed a connection from %s: no complete request head within %g s",
                        self.client[0] if self.client else "?", header_timeout)
            self.transport.write(_refusal("408 Request Timeout", f"the request head took longer than {header_timeout:g} s\n"))
            self.transport.close()

    return GuardedProtocol
