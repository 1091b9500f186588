"""The rows of `detect.problems`, read from the lake pinned to the last passed model build
(pipeline/store/builds.py: never a half-built state, and no writer waits for us), one short
read-only connection."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date

from pipeline.settings import Settings
from pipeline.store import builds, lake

COLUMNS = (
    "problem_id", "kind", "cause", "title", "policy_domain", "affected_domains", "status", "resolved_on",
    "severity", "severity_rank", "first_seen", "last_seen", "affected_mx_hosts", "affected_ips",
    "affected_sending_ips", "affected_reporters", "sessions_affected", "peak_failure_rate",
    "diagnosis", "fix", "anomaly_count", "data_through",
)


@dataclass(frozen=True)
class Problem:
    """One row of detect.problems (the contract in docs/alerts.md)."""

    problem_id: str
    kind: str
    cause: str
    title: str
    policy_domain: str | None
    affected_domains: tuple[str, ...]
    status: str
    resolved_on: date | None
    severity: str
    severity_rank: int
    first_seen: date | None
    last_seen: date | None
    affected_mx_hosts: tuple[str, ...] = ()
    affected_ips: tuple[str, ...] = ()
    affected_sending_ips: tuple[str, ...] = ()
    affected_reporters: tuple[str, ...] = ()
    sessions_affected: int = 0
    peak_failure_rate: float | None = None
    diagnosis: str = ""
    fix: str = ""
    anomaly_count: int = 0
    data_through: date | None = None

    @classmethod
    def from_row(cls, row: dict) -> "Problem":
        values = dict(row)
        for key in ("affected_domains", "affected_mx_hosts", "affected_ips", "affected_sending_ips", "affected_reporters"):
            values[key] = tuple(v for v in values.get(key) or () if v is not None)
        for key in ("sessions_affected", "anomaly_count", "severity_rank"):
            values[key] = int(values.get(key) or 0)
        for key in ("diagnosis", "fix", "title", "cause"):
            values[key] = values.get(key) or ""
        if isinstance(values.get("peak_failure_rate"), (int, float)):
            values["peak_failure_rate"] = float(values["peak_failure_rate"])
        return cls(**{k: values.get(k) for k in COLUMNS})

    @property
    def is_open(self) -> bool:
        return self.status != "resolved"

    def to_json(self) -> dict:
        """JSON-ready: dates as ISO strings, tuples as lists."""
        return {k: (v.isoformat() if isinstance(v, date) else list(v) if isinstance(v, tuple) else v)
                for k, v in asdict(self).items()}

    @classmethod
    def from_json(cls, data: dict) -> "Problem":
        values = {k: data.get(k) for k in COLUMNS}
        for key in ("resolved_on", "first_seen", "last_seen", "data_through"):
            if isinstance(values[key], str):
                values[key] = date.fromisoformat(values[key])
        return cls.from_row(values)


@dataclass(frozen=True)
class Loaded:
    problems: tuple[Problem, ...]
    snapshot: int | None  # the lake snapshot read
    reason: str = ""  # why there is nothing to read (no lake, no table yet)

    @property
    def ok(self) -> bool:
        return not self.reason


def load_problems(settings: Settings) -> Loaded:
    snapshot = builds.snapshot_to_read(settings)
    if snapshot is None:
        return Loaded((), None, f"no warehouse yet at {lake.location(settings).described} (run the pipeline first)")
    con = lake.open_lake(settings, read_only=True, snapshot=snapshot)
    try:
        present = {name for (name,) in con.execute(
            "select column_name from information_schema.columns where table_catalog = current_database()"
            " and table_schema = 'detect' and table_name = 'problems'"
        ).fetchall()}
        if not present:
            return Loaded((), snapshot, f"snapshot {snapshot} of the warehouse has no detect.problems table yet (a newer pipeline builds it)")
        missing = [c for c in COLUMNS if c not in present]
        if missing:
            return Loaded((), snapshot, f"detect.problems in snapshot {snapshot} lacks the columns {', '.join(missing)}")
        cursor = con.execute(f"select {', '.join(COLUMNS)} from detect.problems order by problem_id")
        rows = [dict(zip(COLUMNS, row)) for row in cursor.fetchall()]
    finally:
        con.close()
    return Loaded(tuple(Problem.from_row(r) for r in rows), snapshot)
