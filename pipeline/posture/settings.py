"""Posture settings, from the environment (.env.example lists them; docs/posture.md explains)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from pipeline.posture.config import ProbeConfig


_ON, _OFF = ("on", "1", "true", "yes"), ("off", "0", "false", "no")


def _flag(name: str, default: str = "on") -> bool:
    # Strict: a typo (`TLSRPT_POSTURE=of`) must not quietly mean "on" and probe the network.
    text = os.environ.get(name, default).strip().lower() or default
    if text not in _ON + _OFF:
        raise ValueError(f"{name}={text!r}: use on or off")
    return text in _ON


def _number(name: str, default: float, kind=int):
    text = os.environ.get(name, "").strip()
    try:
        return kind(text) if text else default
    except ValueError:
        raise ValueError(f"{name}={text!r} is not a number") from None


def _list(name: str) -> tuple[str, ...]:
    return tuple(d.strip().lower().rstrip(".") for d in os.environ.get(name, "").split(",") if d.strip())


@dataclass(frozen=True)
class PostureSettings:
    # Off: the daily asset checks nothing and nothing leaves the machine (`tlsrpt check` still works).
    enabled: bool = field(default_factory=lambda: _flag("TLSRPT_POSTURE"))
    domains: tuple[str, ...] = field(default_factory=lambda: _list("TLSRPT_POSTURE_DOMAINS"))
    # Also watch every policy domain the reports name (most recently reported first).
    from_reports: bool = field(default_factory=lambda: _flag("TLSRPT_POSTURE_FROM_REPORTS"))
    expiry_days: int = field(default_factory=lambda: _number("TLSRPT_POSTURE_EXPIRY_DAYS", 14))
    max_domains: int = field(default_factory=lambda: _number("TLSRPT_POSTURE_MAX_DOMAINS", 100))
    interval: float = field(default_factory=lambda: _number("TLSRPT_POSTURE_INTERVAL", 1.0, float))
    # Probe hosts that resolve to private or loopback addresses (an internal-only deployment).
    allow_private: bool = field(default_factory=lambda: _flag("TLSRPT_POSTURE_ALLOW_PRIVATE", "off"))
    dns_server: str = field(default_factory=lambda: os.environ.get("TLSRPT_DNS_SERVER", ""))

    def probe_config(self, **overrides) -> ProbeConfig:
        return ProbeConfig(**{"dns_server": self.dns_server, "expiry_warn_days": self.expiry_days,
                              "max_domains": self.max_domains, "min_interval": self.interval,
                              "allow_private": self.allow_private} | overrides)
