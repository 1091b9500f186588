"""What each channel was last told about each problem: `<data>/alerts/state.json`, plus the
append-only `<data>/alerts/sent.jsonl` (one line per message a channel accepted).

The state moves only after a channel accepted a message, and is rewritten after every message
(temp file + fsync + os.replace + fsync of the folder: a crash leaves the old file or the new one), so a crash loses at most
the record of the one message in flight; that message is sent again next run with the same
event_id, which receivers can use to drop the copy. A lock file keeps two alert runs (the CLI
and the Dagster sensor) from deciding at the same time.
"""

from __future__ import annotations

import fcntl
import json
import os
import tempfile
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Iterator

from pipeline.alerts.problems import Problem
from pipeline.intake.spool import fsync_dir

VERSION = 1
ALERTING = ("opened", "worsened")  # events after which the channel believes the problem is open
FORGET_AFTER = timedelta(days=90)  # resolved problems no longer in the mart are dropped from the state


class AlertsBusy(RuntimeError):
    """Another alerts run holds the lock."""


@dataclass(frozen=True)
class Sent:
    """The last message one channel accepted about one problem."""

    event: str
    sent_at: datetime
    severity_rank: int
    sessions_affected: int
    alerts: int  # messages about this problem this channel accepted so far

    def to_json(self) -> dict:
        return {**asdict(self), "sent_at": self.sent_at.isoformat()}

    @classmethod
    def from_json(cls, data: dict) -> "Sent":
        return cls(event=data["event"], sent_at=datetime.fromisoformat(data["sent_at"]),
                   severity_rank=int(data["severity_rank"]), sessions_affected=int(data["sessions_affected"]),
                   alerts=int(data["alerts"]))


class State:
    def __init__(self, problems: dict[str, dict] | None = None) -> None:
        # problem_id -> {"problem": last problem row sent anywhere, "channels": {name: Sent}}
        self._problems: dict[str, dict] = problems or {}

    def last(self, channel: str, problem_id: str) -> Sent | None:
        return self._problems.get(problem_id, {}).get("channels", {}).get(channel)

    def problem_ids(self) -> list[str]:
        return sorted(self._problems)

    def problem(self, problem_id: str) -> Problem | None:
        entry = self._problems.get(problem_id)
        return Problem.from_json(entry["problem"]) if entry else None

    def record(self, channel: str, event: str, problem: Problem, sent_at: datetime) -> Sent:
        entry = self._problems.setdefault(problem.problem_id, {"problem": {}, "channels": {}})
        previous = entry["channels"].get(channel)
        sent = Sent(event, sent_at, problem.severity_rank, problem.sessions_affected,
                    (previous.alerts if previous else 0) + 1)
        entry["channels"][channel] = sent
        entry["problem"] = problem.to_json()
        return sent

    def note_change(self, change, at: datetime) -> None:
        """Record that a problem already alerted on changed without news for a channel (its first
        day moved: pipeline/alerts/decide.py), and remember the row as it is now."""
        entry = self._problems.get(change.problem.problem_id)
        if entry is None:
            return
        entry.setdefault("changes", []).append({"at": at.isoformat(), "change": change.change})
        entry["problem"] = change.problem.to_json()

    def history(self, problem_id: str) -> list[dict]:
        """The changes noted for a problem, oldest first."""
        return list(self._problems.get(problem_id, {}).get("changes", []))

    def prune(self, current_ids: set[str], now: datetime) -> None:
        for problem_id in list(self._problems):
            channels = self._problems[problem_id]["channels"].values()
            if problem_id not in current_ids and all(
                s.event == "resolved" and now - s.sent_at > FORGET_AFTER for s in channels
            ):
                del self._problems[problem_id]

    def to_json(self) -> dict:
        return {"version": VERSION, "problems": {
            pid: {"problem": e["problem"], "channels": {c: s.to_json() for c, s in sorted(e["channels"].items())},
                  **({"changes": e["changes"]} if e.get("changes") else {})}
            for pid, e in sorted(self._problems.items())
        }}

    @classmethod
    def from_json(cls, data: dict) -> "State":
        if data.get("version") != VERSION:
            raise ValueError(f"unknown alerts state version {data.get('version')!r}")
        return cls({pid: {"problem": e.get("problem", {}),
                          "channels": {c: Sent.from_json(s) for c, s in e.get("channels", {}).items()},
                          "changes": list(e.get("changes", []))}
                    for pid, e in data.get("problems", {}).items()})


def alerts_dir(data_dir: Path) -> Path:
    return data_dir / "alerts"


def load_state(data_dir: Path) -> State:
    path = alerts_dir(data_dir) / "state.json"
    if not path.exists():
        return State()
    return State.from_json(json.loads(path.read_text(encoding="utf-8")))


def save_state(data_dir: Path, state: State) -> None:
    folder = alerts_dir(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".state-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(state.to_json(), handle, indent=1, sort_keys=True)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, folder / "state.json")
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_dir(folder)


def append_sent(data_dir: Path, line: dict) -> None:
    folder = alerts_dir(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "sent.jsonl", "a", encoding="utf-8") as handle:
        handle.write(json.dumps(line, sort_keys=True) + "\n")
        handle.flush()
        os.fsync(handle.fileno())


@contextmanager
def alerts_lock(data_dir: Path) -> Iterator[None]:
    folder = alerts_dir(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise AlertsBusy(f"another alerts run holds {folder / '.lock'}") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
