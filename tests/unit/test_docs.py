"""The README's schema section and the DuckDB comments say the same as the code."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import duckdb

from pipeline.parse.conformance import FLAGS
from pipeline.store.schema_comments import COLUMNS
from pipeline.store.warehouse import ensure_schema

ROOT = Path(__file__).parents[2]


def test_readme_schema_section_is_current():
    rendered = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "schema_doc.py")], capture_output=True, text=True, check=True,
        env={"PYTHONPATH": str(ROOT)},
    ).stdout.strip()
    assert rendered in (ROOT / "README.md").read_text(), "run: python scripts/schema_doc.py --write"


def test_every_column_has_a_comment():
    con = duckdb.connect()
    ensure_schema(con)
    rows = con.execute(
        "select table_name, column_name, comment from duckdb_columns() where schema_name = 'main' and not internal"
    ).fetchall()
    missing = [(t, c) for t, c, comment in rows if not comment]
    assert not missing
    assert {(t, c) for t, c, _ in rows} == {(t, c) for t, cols in COLUMNS.items() for c in cols}


def test_every_flag_the_code_can_set_is_documented():
    source = "\n".join(p.read_text() for p in (ROOT / "pipeline").rglob("*.py") if "generate" not in p.parts)
    emitted = set(re.findall(r'flags\.(?:add|append)\("([a-z0-9_]+)"\)', source))
    emitted |= {"failures_without_details", "totals_mismatch", "gzip_labelled_json", "base64_file"}
    emitted |= {f"{k}_missing" for k in ("successful_session_count", "failure_session_count")}
    assert emitted <= set(FLAGS), emitted - set(FLAGS)
