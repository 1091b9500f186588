"""Where the probes go and how hard they may push. Production uses the defaults; tests inject a
loopback resolver, ports and a throw-away CA so nothing leaves 127.0.0.1."""

from __future__ import annotations

import ssl
from dataclasses import dataclass

import dns.flags
import dns.resolver


@dataclass(frozen=True)
class ProbeConfig:
    dns_server: str = ""  # "ip[:port]"; empty: the system resolver
    dns_timeout: float = 5.0
    smtp_port: int = 25
    https_port: int = 443
    # Address every HTTPS and SMTP connection dials instead of the name's A record (tests only:
    # the names stay real so SNI and certificate checks do too).
    connect_address: str = ""
    allow_private: bool = False  # probe MX/policy hosts on private or loopback addresses (addresses.py)
    ca_file: str = ""  # trust anchors; empty: the system store
    timeout: float = 10.0  # seconds per connection step
    deadline: float = 20.0  # total seconds for one policy fetch or SMTP probe
    policy_max_bytes: int = 64 * 1024  # RFC 8461 3.3 leaves it open; 64 KB is far above any real policy
    expiry_warn_days: int = 14  # a certificate closer than this to its end is a `warn`
    max_domains: int = 100  # per run: a report naming 10,000 domains must not make us probe them all
    min_interval: float = 1.0  # seconds between two domains' checks: polite to shared MX hosts

    def resolver(self) -> dns.resolver.Resolver:
        if not self.dns_server:
            resolver = dns.resolver.Resolver()
        else:
            resolver = dns.resolver.Resolver(configure=False)
            host, _, port = self.dns_server.rpartition(":") if self.dns_server.count(":") == 1 else (self.dns_server, "", "")
            resolver.nameservers = [host]
            if port:
                resolver.port = int(port)
        resolver.timeout = min(self.dns_timeout, 2.0)
        resolver.lifetime = self.dns_timeout
        # Ask for DNSSEC processing so a validating resolver reports the AD bit (TLSA, RFC 7672).
        resolver.use_edns(0, dns.flags.DO, 1232)
        resolver.flags = dns.flags.RD | dns.flags.AD
        return resolver

    def ssl_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.ca_file or None)
