"""What a run costs when the models are run by dbt-duckdb instead of our runner: the fixed floor.

    .venv/bin/python benchmarks/model_runner_floor.py [--repeat 3] [--out bench-out]

Issue 17 asks to decide, by measurement, whether our runner (pipeline/transform/sql_models.py)
grows incremental builds or a maintained tool runs the models, judged first on a run with
nothing new (<= 3 s). This measures the part of that run that does not depend on the data: on a
small warehouse (`tlsrpt generate --domains 4 --days 30`, ingested once into its lake), the same models
under sql/ translated mechanically to a dbt project (`staging.x` -> `{{ ref('x') }}`,
`main.x`/`config.x` -> `{{ source(...) }}`, comments dropped), then, each a whole process:

  ours, nothing new     `tlsrpt ingest <empty folder>`: fingerprints match, nothing is rebuilt
  ours, full rebuild    `tlsrpt rebuild`-free: the runner forced (`build_all` of every model, in the lake)
  dbt parse             `dbt parse --no-partial-parse`: reading the project, no database work
  dbt run               `dbt run` of the 20 models as tables (what dbt does with nothing new,
                        unless every model is incremental; then each still runs its query)
  dbt run, 1 model      `dbt run --select marts.daily_outcomes`: the per-invocation floor

dbt-duckdb lives in a throw-away venv (`<out>/dbt-venv`, dbt-core < 1.12: 1.12 needs a parser
package that has no wheel here and does not build). dbt runs on a plain DuckDB file holding a copy
of the lake's core and config tables (its sources): its venv has no DuckLake extension, and the
floor measured (parsing, planning, one connection per invocation) does not depend on where the
tables live. Results: benchmarks/results/model_runner_floor.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

from process_time import timed  # benchmarks/, beside this script

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
ENV = {"TLSRPT_WORKERS": "2", "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
LAYERS = sorted(p.name for p in (REPO / "sql").iterdir() if p.is_dir())  # one schema per folder
QUALIFIED = re.compile(rf"\b({'|'.join(LAYERS)}|main|config)\.([a-z_][a-z0-9_]*)\b")


def dbt_venv(out: Path) -> Path:
    venv = out / "dbt-venv"
    if not (venv / "bin" / "dbt").exists():
        uv = str(REPO / ".venv" / "bin" / "uv")
        subprocess.run([uv, "venv", "-q", "-p", sys.executable, str(venv)], check=True)
        subprocess.run([uv, "pip", "install", "-q", "-p", str(venv / "bin" / "python"), "--compile-bytecode",
                        "dbt-duckdb==1.11.1", "dbt-core<1.12", "duckdb==1.5.5"], check=True)
    return venv


def to_dbt(sql: str) -> str:
    sql = re.sub(r"--[^\n]*", "", sql)

    def name(match: re.Match) -> str:
        schema, table = match.groups()
        if schema in ("main", "config"):
            return f"{{{{ source('{schema}', '{table}') }}}}"
        return f"{{{{ ref('{schema}__{table}') }}}}"

    return QUALIFIED.sub(name, sql)


def write_project(project: Path, warehouse: Path) -> None:
    shutil.rmtree(project, ignore_errors=True)
    sources: dict[str, set[str]] = {"main": set(), "config": set()}
    for path in sorted((REPO / "sql").glob("*/*.sql")):
        # dbt wants model names unique across folders (detect and posture both have a
        # problem_episodes): `<schema>__<name>`, built as the table `<name>` of its schema
        target = project / "models" / path.parent.name / f"{path.parent.name}__{path.name}"
        target.parent.mkdir(parents=True, exist_ok=True)
        text = path.read_text()
        for schema, table in QUALIFIED.findall(re.sub(r"--[^\n]*", "", text)):
            if schema in sources:
                sources[schema].add(table)
        target.write_text(f"{{{{ config(alias='{path.stem}') }}}}\n" + to_dbt(text))
    (project / "models" / "sources.yml").write_text("version: 2\nsources:\n" + "".join(
        f"  - name: {schema}\n    schema: {schema}\n    tables:\n" + "".join(f"      - name: {t}\n" for t in sorted(tables))
        for schema, tables in sources.items()))
    (project / "dbt_project.yml").write_text(
        "name: tlsrpt\nversion: '1.0'\nprofile: tlsrpt\nmodel-paths: ['models']\nmacro-paths: ['macros']\n"
        "models:\n  tlsrpt:\n    +materialized: table\n"
        + "".join(f"    {layer}:\n      +schema: {layer}\n" for layer in LAYERS))
    # Our schemas by their own names (dbt would prefix them with the target schema).
    (project / "macros").mkdir()
    (project / "macros" / "schema.sql").write_text(
        "{% macro generate_schema_name(custom_schema_name, node) %}"
        "{{ custom_schema_name or target.schema }}{% endmacro %}\n")
    (project / "profiles.yml").write_text(
        f"tlsrpt:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: '{warehouse}'\n"
        "      schema: main\n      threads: 1\n")


def plain_copy(data: Path, target: Path) -> None:
    """The lake's core and config tables copied into a plain DuckDB file: dbt's sources."""
    from pipeline.settings import Settings
    from pipeline.store.builds import snapshot_to_read
    from pipeline.store.lake import open_lake

    settings = Settings(data_dir=data)
    con = open_lake(settings, read_only=True, snapshot=snapshot_to_read(settings))
    try:
        con.execute(f"attach '{target}' as plain")
        tables = con.execute("select schema_name, table_name from duckdb_tables() where database_name = 'lake'"
                             " and schema_name in ('main', 'config')").fetchall()
        for schema, table in tables:
            con.execute(f"create schema if not exists plain.{schema}")
            con.execute(f"create table plain.{schema}.{table} as select * from lake.{schema}.{table}")
        con.execute("detach plain")
    finally:
        con.close()


def rows_in_lake(data: Path, table: str) -> int:
    from pipeline.settings import Settings
    from pipeline.store.lake import open_lake

    con = open_lake(Settings(data_dir=data), read_only=True)
    try:
        return con.execute(f"select count(*) from {table}").fetchone()[0]
    finally:
        con.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=REPO / "bench-out")
    args = parser.parse_args()
    out = args.out.absolute() / "model-runner"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    venv = dbt_venv(args.out.absolute())
    tlsrpt = str(REPO / ".venv" / "bin" / "tlsrpt")
    corpus, data, empty = out / "corpus", out / "data", out / "empty"
    empty.mkdir()
    subprocess.run([tlsrpt, "generate", "--domains", "4", "--days", "30", "--seed", "1", str(corpus)],
                   check=True, capture_output=True)
    subprocess.run([tlsrpt, "ingest", "--data-dir", str(data), str(corpus)], check=True, capture_output=True)
    dbt_warehouse = out / "dbt-warehouse.duckdb"
    plain_copy(data, dbt_warehouse)
    project = out / "dbt-project"
    write_project(project, dbt_warehouse)
    dbt = [str(venv / "bin" / "dbt")]
    flags = ["--project-dir", str(project), "--profiles-dir", str(project)]
    forced = ("import sys; from pathlib import Path; from pipeline.settings import Settings; "
              "from pipeline.store.warehouse import connect; from pipeline.transform.sql_models import build_all; "
              "con = connect(Settings(data_dir=Path(sys.argv[1])), threads=2); build_all(con, full=True); con.close()")
    models = len(list((REPO / "sql").glob("*/*.sql")))
    rows = {
        "ours, nothing new: `tlsrpt ingest <empty folder>`": ([tlsrpt, "ingest", "--data-dir", str(data), str(empty)], None),
        "ours, every model rebuilt (`build_all`, forced)": ([sys.executable, "-c", forced, str(data)], REPO),
        "dbt parse --no-partial-parse": ([*dbt, "parse", "--no-partial-parse", *flags], project),
        f"dbt run ({models} models as tables)": ([*dbt, "run", *flags], project),
        "dbt run --select marts__daily_outcomes (1 model)": ([*dbt, "run", "--select", "marts__daily_outcomes", *flags],
                                                             project),
    }
    figures: dict[str, list[tuple[float, float]]] = {}
    loads = []
    for _ in range(args.repeat):
        for label, (command, cwd) in rows.items():
            loads.append(float(Path("/proc/loadavg").read_text().split()[0]))
            figures.setdefault(label, []).append(timed(command, cwd, ENV))
            print(label, figures[label][-1], flush=True)
    counts = [subprocess.run([str(venv / "bin" / "python"), "-c",
                              "import duckdb, sys; c = duckdb.connect(sys.argv[1], read_only=True); "
                              "print(c.execute('select count(*) from marts.daily_outcomes').fetchone()[0])",
                              str(dbt_warehouse)], capture_output=True, text=True, check=True).stdout.strip(),
              rows_in_lake(data, "marts.daily_outcomes")]
    version = subprocess.run([*dbt, "--version"], capture_output=True, text=True).stdout.split("installed:")[1].split()[0]
    lines = [
        "# The model runner's floor: ours vs dbt-duckdb", "",
        f"`benchmarks/model_runner_floor.py --repeat {args.repeat}`; {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC; "
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, duckdb 1.5.5, dbt-core "
        f"{version}, dbt-duckdb 1.11.1. **The machine was shared** with other sessions (1-min load average "
        f"{min(loads):.1f}-{max(loads):.1f} before the runs); the CPU column moves less than the wall column.", "",
        f"A small warehouse (`tlsrpt generate --domains 4 --days 30`, 375 reports) in its lake; the {models} "
        "models under sql/ translated mechanically for dbt, run on a plain DuckDB copy of the lake's core tables "
        f"(`marts.daily_outcomes`: {counts[0]} rows built by dbt, {counts[1]} by ours). "
        "Each row a "
        "whole process, runs interleaved; the `dbt run` rows reuse the parse saved by the `dbt parse` before them "
        "(partial parsing, dbt's default).", "",
        "| what | wall, runs (s) | wall median (s) | CPU median (s) |", "|---|---|---|---|",
    ]
    for label, values in figures.items():
        lines.append(f"| {label} | {', '.join(f'{v[0]:.2f}' for v in values)} | "
                     f"{statistics.median(v[0] for v in values):.2f} | {statistics.median(v[1] for v in values):.2f} |")
    result = REPO / "benchmarks" / "results" / "model_runner_floor.md"
    result.write_text("\n".join(lines) + "\n")
    print(result.read_text())


if __name__ == "__main__":
    main()
