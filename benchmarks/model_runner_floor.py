"""What a run costs when the models are run by dbt-duckdb instead of our runner: the fixed floor.

    .venv/bin/python benchmarks/model_runner_floor.py [--repeat 3] [--out bench-out]

Issue 17 asks to decide, by measurement, whether our runner (pipeline/transform/sql_models.py)
grows incremental builds or a maintained tool runs the models, judged first on a run with
nothing new (<= 3 s). This measures the part of that run that does not depend on the data: on a
small warehouse (`tlsrpt generate --domains 4 --days 30`, ingested once), the same 20 models
under sql/ translated mechanically to a dbt project (`staging.x` -> `{{ ref('x') }}`,
`main.x`/`config.x` -> `{{ source(...) }}`, comments dropped), then, each a whole process:

  ours, nothing new     `tlsrpt ingest <empty folder>`: fingerprints match, nothing is rebuilt
  ours, full rebuild    `tlsrpt rebuild`-free: the runner forced (`build_all` of every model)
  dbt parse             `dbt parse --no-partial-parse`: reading the project, no database work
  dbt run               `dbt run` of the 20 models as tables (what dbt does with nothing new,
                        unless every model is incremental; then each still runs its query)
  dbt run, 1 model      `dbt run --select marts.daily_outcomes`: the per-invocation floor

dbt-duckdb lives in a throw-away venv (`<out>/dbt-venv`, dbt-core < 1.12: 1.12 needs a parser
package that has no wheel here and does not build). Results: benchmarks/results/model_runner_floor.md.
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
ENV = {"TLSRPT_WORKERS": "2", "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
QUALIFIED = re.compile(r"\b(staging|intermediate|marts|main|config)\.([a-z_][a-z0-9_]*)\b")


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
        return f"{{{{ ref('{table}') }}}}"

    return QUALIFIED.sub(name, sql)


def write_project(project: Path, warehouse: Path) -> None:
    shutil.rmtree(project, ignore_errors=True)
    sources: dict[str, set[str]] = {"main": set(), "config": set()}
    for path in sorted((REPO / "sql").glob("*/*.sql")):
        target = project / "models" / path.parent.name / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        text = path.read_text()
        for schema, table in QUALIFIED.findall(re.sub(r"--[^\n]*", "", text)):
            if schema in sources:
                sources[schema].add(table)
        target.write_text(to_dbt(text))
    (project / "models" / "sources.yml").write_text("version: 2\nsources:\n" + "".join(
        f"  - name: {schema}\n    schema: {schema}\n    tables:\n" + "".join(f"      - name: {t}\n" for t in sorted(tables))
        for schema, tables in sources.items()))
    (project / "dbt_project.yml").write_text(
        "name: tlsrpt\nversion: '1.0'\nprofile: tlsrpt\nmodel-paths: ['models']\nmacro-paths: ['macros']\n"
        "models:\n  tlsrpt:\n    +materialized: table\n"
        + "".join(f"    {layer}:\n      +schema: {layer}\n" for layer in ("staging", "intermediate", "marts")))
    # Our schemas by their own names (dbt would prefix them with the target schema).
    (project / "macros").mkdir()
    (project / "macros" / "schema.sql").write_text(
        "{% macro generate_schema_name(custom_schema_name, node) %}"
        "{{ custom_schema_name or target.schema }}{% endmacro %}\n")
    (project / "profiles.yml").write_text(
        f"tlsrpt:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: '{warehouse}'\n"
        "      schema: main\n      threads: 1\n")


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
    shutil.copy(data / "warehouse.duckdb", dbt_warehouse)
    project = out / "dbt-project"
    write_project(project, dbt_warehouse)
    dbt = [str(venv / "bin" / "dbt")]
    flags = ["--project-dir", str(project), "--profiles-dir", str(project)]
    forced = ("import sys; from pathlib import Path; from pipeline.store.warehouse import connect; "
              "from pipeline.transform.sql_models import build_all; con = connect(Path(sys.argv[1]), threads=2); "
              "build_all(con); con.close()")
    rows = {
        "ours, nothing new: `tlsrpt ingest <empty folder>`": ([tlsrpt, "ingest", "--data-dir", str(data), str(empty)], None),
        "ours, every model rebuilt (`build_all`, forced)": ([sys.executable, "-c", forced, str(data / "warehouse.duckdb")], REPO),
        "dbt parse --no-partial-parse": ([*dbt, "parse", "--no-partial-parse", *flags], project),
        "dbt run (20 models as tables)": ([*dbt, "run", *flags], project),
        "dbt run --select daily_outcomes (1 model)": ([*dbt, "run", "--select", "daily_outcomes", *flags], project),
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
                              str(path)], capture_output=True, text=True, check=True).stdout.strip()
              for path in (dbt_warehouse, data / "warehouse.duckdb")]
    version = subprocess.run([*dbt, "--version"], capture_output=True, text=True).stdout.split("installed:")[1].split()[0]
    lines = [
        "# The model runner's floor: ours vs dbt-duckdb", "",
        f"`benchmarks/model_runner_floor.py --repeat {args.repeat}`; {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC; "
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, duckdb 1.5.5, dbt-core "
        f"{version}, dbt-duckdb 1.11.1. **The machine was shared** with other sessions (1-min load average "
        f"{min(loads):.1f}-{max(loads):.1f} before the runs); the CPU column moves less than the wall column.", "",
        "A small warehouse (`tlsrpt generate --domains 4 --days 30`, 375 reports); the 20 models under sql/ "
        f"translated mechanically for dbt (`marts.daily_outcomes`: {counts[0]} rows built by dbt, {counts[1]} by ours). "
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
