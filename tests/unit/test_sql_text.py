"""sql_text: any Python text becomes a SQL constant that DuckDB reads back unchanged."""

from __future__ import annotations

import duckdb
import pytest

from pipeline.store.sql_text import sql_text


@pytest.mark.parametrize("text", ["", "plain", "it's", "''", "x'; drop table t; --", "back\\slash",
                                  "a\x00b", "\x00", "\x00\x00'", "ÉCOLE ẞ 🙂", "line\nbreak"])
def test_a_text_reads_back_as_itself(text: str):
    assert duckdb.sql("select " + sql_text(text)).fetchone()[0] == text
