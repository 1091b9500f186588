"""docs/marts.md: the catalogue is current, and every example question runs and answers."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from pipeline.generate import write_corpus
from pipeline.transform.sql_models import build_all
from tests.conftest import ingest_into, open_warehouse

ROOT = Path(__file__).parents[2]
DOC = ROOT / "docs" / "marts.md"
EXAMPLES = re.findall(r"```sql\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)


def test_catalogue_is_current():
    rendered = subprocess.run([sys.executable, str(ROOT / "scripts" / "mart_doc.py")], capture_output=True, text=True,
                              check=True, env={"PYTHONPATH": str(ROOT)}).stdout.strip()
    assert rendered in DOC.read_text(encoding="utf-8"), "run: python scripts/mart_doc.py --write"


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> duckdb.DuckDBPyConnection:
    root = tmp_path_factory.mktemp("demo")
    write_corpus(root / "corpus", domains=3, days=30, seed=4, formats=("files",))
    ingest_into(root / "data", [root / "corpus" / "files"], workers=2)
    con = open_warehouse(root / "data", read_only=False)
    build_all(con)
    return con


def test_there_are_five_example_questions():
    assert len(EXAMPLES) == 5


@pytest.mark.parametrize("number", range(5))
def test_example_question_answers(demo: duckdb.DuckDBPyConnection, number: int):
    rows = demo.execute(EXAMPLES[number]).fetchall()
    if number in (0, 1, 2):  # failures and daily rates always exist in a 30-day generated corpus
        assert rows
    if number == 2:
        assert abs(sum(row[-1] for row in rows) - 100) < 1  # the shares add up to the whole
