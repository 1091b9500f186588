"""Write docs/marts.md's catalogue from the SQL models themselves: grain (first line of each
file), dependencies and columns (as DuckDB types them on an empty warehouse). With --write it
replaces the generated section; tests/sql/test_docs_marts.py checks it is current."""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb

from pipeline.sql_models import LAYERS, build_all, load_models
from pipeline.warehouse import ensure_schema

DOC = Path(__file__).resolve().parents[1] / "docs" / "marts.md"
BEGIN, END = "<!-- catalogue:begin (scripts/mart_doc.py) -->", "<!-- catalogue:end -->"


def render() -> str:
    con = duckdb.connect()
    ensure_schema(con)
    models = load_models()
    build_all(con, models)
    lines = [BEGIN, ""]
    for key in sorted(models, key=lambda k: LAYERS.index(k.split(".")[0])):
        model = models[key]
        columns = con.execute(
            "select column_name, data_type from duckdb_columns() where schema_name = ? and table_name = ?",
            [model.schema, model.name],
        ).fetchall()
        lines += [f"### `{key}`", "", f"Grain: {model.grain}. Reads: {', '.join(f'`{d}`' for d in sorted(model.deps))}.", ""]
        lines.append("Columns: " + ", ".join(f"`{name}` {kind.lower()}" for name, kind in columns) + ".")
        lines.append("")
    lines.append(END)
    return "\n".join(lines)


if __name__ == "__main__":
    if "--write" in sys.argv:
        text = DOC.read_text(encoding="utf-8")
        start, end = text.index(BEGIN), text.index(END) + len(END)
        DOC.write_text(text[:start] + render() + text[end:], encoding="utf-8")
    else:
        print(render())
