"""`alerts.toml`: the channels alerts go to, which domains each one hears about, and how loud.

Read with tomllib and checked key by key, so a mistake is one line naming the file and the key
(`AlertsConfigError`, a ValueError). Secrets are named, not stored: `secret_env`/`password_env`
hold environment variable names, read only when sending (`resolve_secrets`), so a dry run works
without them. Format and examples: docs/alerts.md.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from pipeline.alerts.toml_table import SEVERITY_RANK, AlertsConfigError, TomlTable
from pipeline.settings import secret

__all__ = ["SEVERITY_RANK", "AlertsConfig", "AlertsConfigError", "Channel", "load_config", "resolve_secrets"]

KINDS = ("webhook", "smtp", "apprise")


@dataclass(frozen=True)
class Channel:
    kind: str  # webhook | smtp | apprise
    name: str  # stable id in the state file: the `name` key, else kind + a hash of the target
    domains: tuple[str, ...] = ()  # empty: every domain
    min_severity: str = "warning"
    # webhook
    url: str = ""
    secret: str = ""
    secret_env: str = ""
    # smtp
    host: str = ""
    port: int = 587
    starttls: bool = True
    username: str = ""
    password_env: str = ""
    sender: str = ""
    to: tuple[str, ...] = ()
    cafile: str = ""
    # apprise
    urls: tuple[str, ...] = ()

    @property
    def min_rank(self) -> int:
        return SEVERITY_RANK[self.min_severity]


@dataclass(frozen=True)
class AlertsConfig:
    path: Path
    channels: tuple[Channel, ...]
    min_severity: str = "warning"
    suppress_hours: float = 24.0
    timeout_seconds: float = 10.0


_COMMON = {"name", "domains", "min_severity"}
_ALLOWED = {
    "webhook": _COMMON | {"url", "secret", "secret_env"},
    "smtp": _COMMON | {"host", "port", "starttls", "username", "password_env", "from", "to", "cafile"},
    "apprise": _COMMON | {"urls"},
}


def redact(url: str) -> str:
    """Webhook and Apprise URLs carry credentials and tokens (user part, path, query): every
    printed line shows the scheme and host only."""
    scheme, found, rest = url.partition("://")
    if not found:
        return "a value that is not a URL"
    host = re.split(r"[/?#]", rest, maxsplit=1)[0].rsplit("@", 1)[-1]
    return f"{scheme}://{host}/..."


def _default_name(kind: str, target: str) -> str:
    return f"{kind}:{hashlib.sha256(target.encode()).hexdigest()[:10]}"


def _channel(kind: str, table: TomlTable, min_severity: str) -> Channel:
    table.unknown(_ALLOWED[kind])
    common = {
        "domains": tuple(d.lower().rstrip(".") for d in table.strings("domains")),
        "min_severity": table.severity("min_severity", min_severity),
    }
    if kind == "webhook":
        url = table.get("url", str, required=True)
        if not url.startswith(("http://", "https://")):
            raise table.error("url", "must start with http:// or https://")
        secret, secret_env = table.get("secret", str, ""), table.get("secret_env", str, "")
        if bool(secret) == bool(secret_env):
            raise table.error("secret", "give exactly one of secret or secret_env (webhooks are always signed)")
        target, fields = url, {"url": url, "secret": secret, "secret_env": secret_env}
    elif kind == "smtp":
        host = table.get("host", str, required=True)
        port = table.get("port", int, 587)
        if not 0 < port < 65536:
            raise table.error("port", f"must be 1-65535, got {port}")
        starttls = table.get("starttls", bool, True)
        username = table.get("username", str, "")
        if username and not starttls:
            raise table.error("starttls", "credentials are never sent without TLS: set starttls = true or drop username")
        password_env = table.get("password_env", str, "")
        if username and not password_env:
            raise table.error("password_env", "is required with username (the name of the variable holding the password)")
        sender = table.get("from", str, required=True)
        to = table.strings("to", required=True)
        cafile = table.get("cafile", str, "")
        if cafile and not Path(cafile).is_file():
            raise table.error("cafile", f"no such file: {cafile}")
        target = f"{host}:{port}:{','.join(to)}"
        fields = {"host": host, "port": port, "starttls": starttls, "username": username,
                  "password_env": password_env, "sender": sender, "to": to, "cafile": cafile}
    else:
        urls = table.strings("urls", required=True)
        import apprise  # only when an [[apprise]] channel exists: it takes ~0.2 s to import

        for url in urls:
            if apprise.Apprise.instantiate(url) is None:
                raise table.error("urls", f"apprise does not understand {redact(url)}")
        target, fields = "|".join(urls), {"urls": urls}
    name = table.get("name", str, "") or _default_name(kind, target)
    return Channel(kind=kind, name=name, **common, **fields)


def load_config(path: Path) -> AlertsConfig:
    """Parse and check alerts.toml; raises AlertsConfigError (or FileNotFoundError)."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise AlertsConfigError(path, "(syntax)", str(exc)) from None
    except UnicodeDecodeError:
        raise AlertsConfigError(path, "(encoding)", "is not UTF-8 text") from None
    top = TomlTable(path, "", data)
    top.unknown({*KINDS, "min_severity", "suppress_hours", "timeout_seconds"})
    min_severity = top.severity("min_severity", "warning")
    suppress_hours = top.get("suppress_hours", float, 24.0)
    timeout = top.get("timeout_seconds", float, 10.0)
    if suppress_hours < 0:
        raise top.error("suppress_hours", "must not be negative")
    if not 0 < timeout <= 120:
        raise top.error("timeout_seconds", "must be between 0 and 120")
    channels: list[Channel] = []
    for kind in KINDS:
        entries = data.get(kind, [])
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            raise top.error(kind, f"must be written as [[{kind}]] tables")
        for index, entry in enumerate(entries):
            channels.append(_channel(kind, TomlTable(path, f"{kind}[{index}]", entry), min_severity))
    names = [c.name for c in channels]
    for name in names:
        if names.count(name) > 1:
            raise top.error("name", f"two channels are called {name!r}: give each a distinct name")
    if not channels:
        raise top.error("(channels)", "no [[webhook]], [[smtp]] or [[apprise]] channel is configured")
    return AlertsConfig(path=path, channels=tuple(channels), min_severity=min_severity,
                        suppress_hours=suppress_hours, timeout_seconds=timeout)


def resolve_secrets(config: AlertsConfig) -> dict[str, str]:
    """Channel name -> its secret (webhook) or password (smtp), read from the environment now."""
    secrets = {}
    for channel in config.channels:
        variable = channel.secret_env if channel.kind == "webhook" else channel.password_env
        if channel.kind == "webhook" and channel.secret:
            secrets[channel.name] = channel.secret
        elif variable:
            value = secret(variable)
            if not value:
                where = f"{channel.kind}[{_index_of(config, channel)}]"
                key = "secret_env" if channel.kind == "webhook" else "password_env"
                raise AlertsConfigError(config.path, f"{where}.{key}", f"environment variable {variable} is not set")
            secrets[channel.name] = value
    return secrets


def _index_of(config: AlertsConfig, channel: Channel) -> int:
    return [c for c in config.channels if c.kind == channel.kind].index(channel)
