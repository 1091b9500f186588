"""Probe only public addresses. Watched domains may come from reports anyone can send, so a
hostile report could name a domain whose MX or policy host resolves to 127.0.0.1 or a private
network: we would then knock on internal services. Such targets are recorded, never dialled.
(A name that changes its answer between this check and the connect can still slip through.)"""

from __future__ import annotations

import ipaddress
import socket

from pipeline.posture.config import ProbeConfig


def not_public(host: str, port: int, config: ProbeConfig) -> str:
    """Why `host` must not be dialled ("" when it may): an address that is not globally routable."""
    if config.connect_address or config.allow_private:
        return ""  # the address to dial was given explicitly (tests), or private targets are wanted
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError:
        return ""  # the connection attempt will fail and say so
    for *_, address in infos:
        ip = ipaddress.ip_address(address[0].split("%")[0])
        if not ip.is_global:
            return f"{host} resolves to {ip}, not a public address: not probed (TLSRPT_POSTURE_ALLOW_PRIVATE=on allows it)"
    return ""
