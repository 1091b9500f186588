"""Score problem detection against a scenario corpus's ground truth (`incidents.json`).

`tlsrpt generate --scenario ...` injects labelled incidents into a clean 90-day background and
writes what it injected to `incidents.json`. After the corpus is ingested and the models are
built, this module compares `detect.problems` with those labels:

- an incident is **detected** when a problem names the same policy domain (or, for a silent
  reporter, the same reporter), one of the incident's accepted causes, and overlaps its days
  (until `resolve_after_days` after an incident's last day: a problem may close a little later);
- a problem is a **true positive** when it detects some incident; every other problem is a false
  alarm, including a right place with the wrong cause;
- the **delay** is the number of report days from the incident's first day to the day whose
  reports made the problem visible (`detected_on`): 0 means the first run after the first day's
  reports arrive already shows it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from pipeline.detect.detection_config import DEFAULTS
from pipeline.settings import Settings
from pipeline.store import lake


@dataclass
class IncidentResult:
    id: str
    scenario: str
    policy_domain: str | None
    reporter: str | None
    first_day: date
    detected: bool
    delay_days: int | None
    problem_titles: list[str]


@dataclass
class Scores:
    incidents: list[IncidentResult]
    problems: int
    true_positive_problems: int
    false_alarms: list[str] = field(default_factory=list)  # titles of problems matching nothing
    clean_domain_problems: int = 0  # problems on domains the generator left clean

    @property
    def recall(self) -> float:
        return sum(i.detected for i in self.incidents) / len(self.incidents) if self.incidents else 1.0

    @property
    def precision(self) -> float:
        return self.true_positive_problems / self.problems if self.problems else 1.0

    def by_scenario(self) -> dict[str, list[IncidentResult]]:
        out: dict[str, list[IncidentResult]] = {}
        for inc in self.incidents:
            out.setdefault(inc.scenario, []).append(inc)
        return out


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _matches(incident: dict, problem: dict, data_through: date, slack: int) -> bool:
    first = _day(incident["first_day"])
    last = _day(incident.get("last_day")) or data_through
    if problem["cause"] not in incident["causes"]:
        return False
    if problem["last_seen"] < first or problem["first_seen"] > last + timedelta(days=slack):
        return False
    if incident.get("policy_domain"):
        return incident["policy_domain"] in problem["affected_domains"]
    return bool(incident.get("reporter")) and incident["reporter"] in problem["affected_reporters"]


def load_problems(data_dir: Path) -> list[dict]:
    """detect.problems of the lake under `data_dir`, as the newest snapshot holds it."""
    con = lake.open_lake(Settings(data_dir=data_dir), read_only=True)
    try:
        cur = con.execute("select * from detect.problems order by first_seen, title")
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row)) for row in cur.fetchall()]
    finally:
        con.close()


def score(incidents_path: Path, data_dir: Path) -> Scores:
    truth = json.loads(Path(incidents_path).read_text(encoding="utf-8"))
    problems = load_problems(data_dir)
    data_through = max((p["data_through"] for p in problems), default=_day(truth["end"]))
    slack = int(DEFAULTS["resolve_after_days"])
    clean = set(truth.get("clean_domains", []))
    matched_problems: set[str] = set()
    results = []
    for inc in truth["incidents"]:
        hits = [p for p in problems if _matches(inc, p, data_through, slack)]
        matched_problems.update(p["problem_id"] for p in hits)
        first = _day(inc["first_day"])
        delay = min(((p["detected_on"] - first).days for p in hits), default=None)
        results.append(IncidentResult(
            id=inc["id"], scenario=inc["scenario"], policy_domain=inc.get("policy_domain"),
            reporter=inc.get("reporter"), first_day=first, detected=bool(hits),
            delay_days=max(delay, 0) if delay is not None else None,
            problem_titles=[p["title"] for p in hits]))
    false_alarms = [p for p in problems if p["problem_id"] not in matched_problems]
    return Scores(
        incidents=results, problems=len(problems), true_positive_problems=len(matched_problems),
        false_alarms=[f"{p['title']} [{p['cause']}, {p['first_seen']}..{p['last_seen']}]" for p in false_alarms],
        clean_domain_problems=sum(1 for p in false_alarms if set(p["affected_domains"]) <= clean and p["kind"] != "silent_reporter"),
    )


def markdown_table(rows: list[tuple[str, Scores]]) -> str:
    """One line per scenario over every scored corpus, then the totals."""
    per: dict[str, list[IncidentResult]] = {}
    for _, s in rows:
        for name, incs in s.by_scenario().items():
            per.setdefault(name, []).extend(incs)
    lines = ["| scenario | incidents | detected | recall | delay days (median, max) |", "|---|---|---|---|---|"]
    for name in sorted(per):
        incs = per[name]
        delays = sorted(i.delay_days for i in incs if i.delay_days is not None)
        median = delays[len(delays) // 2] if delays else None
        hit = sum(i.detected for i in incs)
        lines.append(f"| {name} | {len(incs)} | {hit} | {hit / len(incs):.2f} | "
                     f"{median if median is not None else '-'}, {max(delays) if delays else '-'} |")
    total = sum(len(v) for v in per.values())
    hit = sum(i.detected for v in per.values() for i in v)
    problems = sum(s.problems for _, s in rows)
    tp = sum(s.true_positive_problems for _, s in rows)
    lines.append(f"| **all** | {total} | {hit} | **{hit / total if total else 1:.2f}** | |")
    lines.append("")
    lines.append(f"Problems opened: {problems}; matching an injected incident: {tp}; "
                 f"**precision {tp / problems if problems else 1:.2f}**; false alarms: {problems - tp}.")
    return "\n".join(lines)
