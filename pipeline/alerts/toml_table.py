"""Typed reads from one table of alerts.toml, each failure one line naming the file and the key."""

from __future__ import annotations

from pathlib import Path

SEVERITY_RANK = {"info": 1, "warning": 2, "critical": 3}


class AlertsConfigError(ValueError):
    """A bad alerts.toml: the message names the file and the key."""

    def __init__(self, path: Path, key: str, problem: str) -> None:
        super().__init__(f"{path}: {key}: {problem}")
        self.path, self.key = path, key


class TomlTable:
    """Typed reads from one TOML table, each failure naming `<where>.<key>`."""

    def __init__(self, path: Path, where: str, data: dict) -> None:
        self.path, self.where, self.data = path, where, data

    def error(self, key: str, problem: str) -> AlertsConfigError:
        return AlertsConfigError(self.path, f"{self.where}.{key}" if self.where else key, problem)

    def get(self, key: str, kind: type, default=None, required: bool = False):
        if key not in self.data:
            if required:
                raise self.error(key, "is required")
            return default
        value = self.data[key]
        ok = isinstance(value, kind) and not (kind in (int, float) and isinstance(value, bool))
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value, ok = float(value), True
        if not ok:
            raise self.error(key, f"must be a {kind.__name__}, got {value!r}")
        return value

    def strings(self, key: str, required: bool = False) -> tuple[str, ...]:
        value = self.get(key, list, [], required)
        if not all(isinstance(v, str) and v.strip() for v in value):
            raise self.error(key, "must be a list of non-empty strings")
        if required and not value:
            raise self.error(key, "must not be empty")
        return tuple(v.strip() for v in value)

    def severity(self, key: str, default: str) -> str:
        value = self.get(key, str, default)
        if value not in SEVERITY_RANK:
            raise self.error(key, f"must be one of info, warning, critical (got {value!r})")
        return value

    def unknown(self, allowed: set[str]) -> None:
        extra = sorted(set(self.data) - allowed)
        if extra:
            raise self.error(extra[0], "is not a known setting (typo?)")
