"""The RFC 8460 vocabulary is written out in pipeline/vocabulary.py alone; every other place
derives it, so the models, the fast path, the SQL and the dashboard cannot drift apart."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from app import meanings
from pipeline import vocabulary
from pipeline.detect import causes
from pipeline.generate import failures, world
from pipeline.parse import fastpath, models, models_strict
from pipeline.store.warehouse import ensure_schema
from pipeline.transform.sql_models import write_config
from tests.conftest import ROOT

NAMES = vocabulary.RESULT_TYPE_NAMES
# The generator plays the senders: it must write the registry's values literally, per type (its
# weights and reason texts), so it is held to covering exactly the registry instead.
NOT_CHECKED = {"pipeline/vocabulary.py"}
NOT_CHECKED_FOLDERS = ("pipeline/generate/",)


def _sources() -> list[Path]:
    files = [p for folder in ("pipeline", "app", "sql", "assets") for p in sorted((ROOT / folder).rglob("*"))
             if p.suffix in (".py", ".sql")]
    return [p for p in files if (rel := p.relative_to(ROOT).as_posix()) not in NOT_CHECKED
            and not rel.startswith(NOT_CHECKED_FOLDERS)]


def test_no_other_file_lists_the_result_types():
    listing = {}
    for path in _sources():
        text = path.read_text(encoding="utf-8")
        named = {name for name in NAMES if re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", text)}
        if len(named) >= 3:  # one or two is a use ("if rt == 'tlsa-invalid'"); three is a list
            listing[path.relative_to(ROOT).as_posix()] = sorted(named)
    assert listing == {}


def test_no_other_file_lists_the_policy_types():
    together = re.compile(r"(?=.*\bsts\b)(?=.*\btlsa\b)(?=.*\bno-policy-found\b)")
    listing = [path.relative_to(ROOT).as_posix() for path in _sources()
               if any(together.search(line) for line in path.read_text(encoding="utf-8").splitlines())]
    assert listing == []


def test_every_consumer_holds_the_same_vocabulary():
    assert models.KNOWN_RESULT_TYPES == fastpath._RESULT_TYPES == set(NAMES)
    assert set(models_strict.ResultType.__args__) == set(NAMES)
    assert models.KNOWN_POLICY_TYPES == fastpath._POLICY_TYPES == set(models_strict.PolicyType.__args__)
    assert set(vocabulary.POLICY_TYPES) == models.KNOWN_POLICY_TYPES
    assert causes.RESULT_TYPE_CAUSES == {r.name: r.cause for r in vocabulary.RESULT_TYPES}
    assert {r.cause for r in vocabulary.RESULT_TYPES} <= {c.cause for c in causes.CAUSES}
    assert all(meanings.meaning(name) and meanings.fix(name) for name in NAMES)
    assert world.RESULT_TYPES == NAMES and set(failures._REASONS) == set(world._WEIGHTS) == set(NAMES)


def test_the_fast_path_reads_the_keys_the_models_declare():
    for name in ("_REPORT_KEYS", "_RESULT_KEYS", "_POLICY_KEYS", "_SUMMARY_KEYS", "_DETAIL_KEYS"):
        assert getattr(fastpath, name) == getattr(models, name), name


def test_the_sql_reads_the_vocabulary_from_config():
    con = duckdb.connect()
    ensure_schema(con)
    write_config(con, {})
    rows = con.execute("select result_type, result_group, cause from config.result_types order by all").fetchall()
    assert rows == sorted((r.name, r.group, r.cause) for r in vocabulary.RESULT_TYPES)
    assert [p for (p,) in con.execute("select policy_type from config.policy_types order by 1").fetchall()] == sorted(
        vocabulary.POLICY_TYPES)


def test_the_app_explains_a_result_type_by_its_cause():
    expired = vocabulary.BY_NAME["certificate-expired"]
    assert meanings.meaning("certificate-expired") == expired.meaning
    assert meanings.fix("certificate-expired") == next(c.fix for c in causes.CAUSES if c.cause == expired.cause)
    assert "RFC 8460" in meanings.meaning("x-made-up") and meanings.fix("x-made-up")
