"""The posture history: which domains to watch, and each run's results written to
`posture_checks` in one transaction (a run is all in the table or not at all)."""

from __future__ import annotations

import json
import uuid
from typing import Callable

from pipeline.posture.config import ProbeConfig
from pipeline.posture.result import CheckResult
from pipeline.posture.run import Run, check_domains, is_domain
from pipeline.posture.settings import PostureSettings
from pipeline.settings import Settings
from pipeline.store import lake
from pipeline.store.lake import in_transaction
from pipeline.store.warehouse import connect, writer_lock


def reported_domains(settings: Settings) -> list[str]:
    """Policy domains named in reports, most recently reported first (so a cap keeps the active)."""
    if not lake.exists(settings):
        return []
    con = lake.open_lake(settings, read_only=True)  # a reader: it neither waits for nor blocks an ingest
    try:
        rows = con.execute(
            "select lower(rtrim(policy_domain, '.')) as d from policies where policy_domain is not null"
            " group by d order by max(report_date) desc, d").fetchall()
    finally:
        con.close()
    return [d for (d,) in rows if is_domain(d)]


def watched_domains(settings: Settings, posture: PostureSettings) -> list[str]:
    found = list(posture.domains) + (reported_domains(settings) if posture.from_reports else [])
    return list(dict.fromkeys(found))


def record(settings: Settings, results: list[CheckResult]) -> str:
    """Write one run's results atomically; returns its run id."""
    run_id = uuid.uuid4().hex[:16]
    rows = [(run_id, r.checked_at, r.domain, r.check, r.target, r.verdict, r.reason, r.detail, r.raw,
             json.dumps(r.facts, default=str, sort_keys=True)) for r in results]
    with writer_lock(settings.data_dir):
        con = connect(settings)
        try:
            in_transaction(con, lambda c: c.executemany(
                "insert into posture_checks values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows))
        finally:
            con.close()
    return run_id


def check_and_record(settings: Settings, domains: list[str], config: ProbeConfig,
                     on_result: Callable[[CheckResult], None] | None = None) -> tuple[Run, str]:
    """Probe first, holding no lock (minutes of network), then write the run in one go."""
    run = check_domains(domains, config, on_result)
    return run, record(settings, run.results) if run.results else ""
