"""Print (or with --write, replace in README.md) the README's schema, reason-code and
conformance-flag sections, from the code's own dictionaries, so the docs cannot drift
(tests/unit/test_docs.py compares them). Run from the repo root."""

from __future__ import annotations

from pipeline.parse.conformance import FLAGS
from pipeline.parse.rejection import REASONS
from pipeline.store.schema_comments import COLUMNS, TABLES

BEGIN, END = "<!-- schema:begin (scripts/schema_doc.py) -->", "<!-- schema:end -->"


def render() -> str:
    lines = [BEGIN, ""]
    for table in ("reports", "policies", "failure_details", "deliveries", "raw_objects", "ingest_batches", "builds", "posture_checks"):
        lines += [f"#### `{table}`", "", TABLES[table], "", "| column | meaning |", "|---|---|"]
        lines += [f"| `{column}` | {text} |" for column, text in COLUMNS[table].items()]
        lines.append("")
    lines += ["#### Quarantine reason codes (`deliveries.reason_code`)", "", "| code | meaning |", "|---|---|"]
    lines += [f"| `{code}` | {text} |" for code, text in REASONS.items()]
    lines += ["", "Duplicates carry `same_bytes`, `same_report` or `same_key_different_content`.", ""]
    lines += ["#### Conformance flags (`reports.conformance_flags`)", "", "| flag | meaning |", "|---|---|"]
    lines += [f"| `{flag}` | {text} |" for flag, text in sorted(FLAGS.items())]
    lines += ["", END]
    return "\n".join(lines)


def write_readme(path: str = "README.md") -> None:
    text = open(path, encoding="utf-8").read()
    start, end = text.index(BEGIN), text.index(END) + len(END)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text[:start] + render() + text[end:])


if __name__ == "__main__":
    import sys

    if "--write" in sys.argv:
        write_readme()
    else:
        print(render())
