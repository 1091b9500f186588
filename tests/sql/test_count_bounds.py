"""Sums in SQL cannot overflow (issue 15, item 2). Counts are bounded where they enter: every
count, and every report's sessions in total, at most limits.MAX_SESSIONS_PER_REPORT (10^12).
Reports at that bound load and every model builds; one session more is refused at the door;
and a 64-bit sum over one group (a domain and day, a reporter and day) then needs millions of
such reports in that group before it could overflow."""

from __future__ import annotations

from pathlib import Path

from pipeline.parse import limits
from pipeline.settings import Settings
from pipeline.store.warehouse import connect
from pipeline.transform.sql_models import build_all, load_models
from tests.conftest import ingest_into, query
from tests.fixtures.builders import detail, policy, report, to_json

REPORTERS = 6
HALF = limits.MAX_SESSIONS_PER_REPORT // 2


def _at_the_bound(n: int, failed: int) -> bytes:
    """Microsoft's shape: an sts and a tlsa policy for the same sessions, each stating half the
    maximum, so the report's stated sessions add up to exactly MAX_SESSIONS_PER_REPORT."""
    def edit(obj):
        obj["organization-name"] = f"Reporter {n}"
        sts = policy(obj)
        sts["failure-details"] = [dict(detail(obj), **{"failed-session-count": failed})]
        sts["summary"] = {"total-successful-session-count": HALF - failed, "total-failure-session-count": failed}
        tlsa = {**sts, "policy": {**sts["policy"], "policy-type": "tlsa", "policy-string": []}}
        obj["policies"] = [sts, tlsa]

    return to_json(report(f"bound-{n}", edit))


def test_reports_at_the_bound_load_and_every_model_builds(tmp_path: Path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for n in range(REPORTERS):  # half of them all failures: the details reach the bound too
        (inbox / f"r{n}.json").write_bytes(_at_the_bound(n, HALF if n % 2 else 7))
    data_dir = tmp_path / "data"
    summary = ingest_into(data_dir, [inbox])
    assert summary.loaded == REPORTERS

    con = connect(Settings(data_dir=data_dir))
    try:
        built = build_all(con)
        assert set(built) == set(load_models())
    finally:
        con.close()
    stated = query(data_dir, "select sum(successful_session_count + failed_session_count)::hugeint from policies")
    assert stated == [(REPORTERS * limits.MAX_SESSIONS_PER_REPORT,)]


def test_one_session_past_the_bound_is_refused_at_the_door(tmp_path: Path):
    over = _at_the_bound(0, 7).replace(f'"total-failure-session-count": 7'.encode(), b'"total-failure-session-count": 8', 1)
    (tmp_path / "over.json").write_bytes(over)
    summary = ingest_into(tmp_path / "data", [tmp_path / "over.json"])
    assert summary.quarantined == {"count_too_large": 1}


def test_the_bound_leaves_64_bit_sums_room_for_millions_of_reports_per_group():
    largest_per_report = limits.MAX_SESSIONS_PER_REPORT  # stated sessions; detailed ones are bounded alike
    assert limits.MAX_COUNT <= largest_per_report
    assert 9_000_000 * largest_per_report < 2**63  # one domain-day sees a few dozen real reports


def test_the_issues_report_no_longer_freezes_the_marts(tmp_path: Path):
    """Issue 15's report: three policies of 2^62 sessions each (every count fit 64 bits) loaded,
    then every model rebuild failed on an overflow. Now it is refused, and the marts build."""
    def edit(obj):
        one = policy(obj)
        one["summary"] = {"total-successful-session-count": 2**62, "total-failure-session-count": 2**62}
        one["failure-details"] = [dict(detail(obj), **{"failed-session-count": 2**62})]
        obj["policies"] = [one] * 3

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "near-max.json").write_bytes(to_json(report("near-max", edit)))
    (inbox / "good.json").write_bytes(_at_the_bound(0, 7))
    data_dir = tmp_path / "data"
    summary = ingest_into(data_dir, [inbox])
    assert (summary.loaded, summary.quarantined) == (1, {"count_too_large": 1})
    con = connect(Settings(data_dir=data_dir))
    try:
        assert set(build_all(con)) == set(load_models())
    finally:
        con.close()
