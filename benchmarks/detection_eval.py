"""Score problem detection on many labelled scenario corpora and write the results into docs/detection.md.

    .venv/bin/python benchmarks/detection_eval.py              # 20 scenario seeds + 10 clean backgrounds
    .venv/bin/python benchmarks/detection_eval.py --seeds 3 --clean-seeds 2   # a quick look

Each scenario seed is `tlsrpt generate --scenario all --seed S --domains D` (every scenario of
pipeline.generate.scenarios injected into a 90-day background, each on its own domain), ingested
with `tlsrpt ingest`; each clean seed is `--scenario clean` (no incident at all: every problem
opened there is a false alarm). Scores come from pipeline.detect.evaluate. Corpora and warehouses go
under bench-out/detection/ (git-ignored) and are reused when present.
"""

from __future__ import annotations

import argparse
import platform
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.detect.evaluate import Scores, load_problems, markdown_table, score  # noqa: E402

TLSRPT = str(ROOT / ".venv" / "bin" / "tlsrpt")
BEGIN, END = "<!-- detection-results:begin (benchmarks/detection_eval.py) -->", "<!-- detection-results:end -->"


def run(*args: str) -> None:
    subprocess.run([TLSRPT, *args], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def corpus(out: Path, scenario: str, seed: int, domains: int) -> tuple[Path, Path, float]:
    """(incidents.json, data dir of its lake, seconds the model build took) for one generated corpus."""
    folder = out / f"{scenario}-seed{seed}-d{domains}"
    data = folder / "data"
    if not (folder / "corpus" / "incidents.json").exists():
        run("generate", "--scenario", scenario, "--seed", str(seed), "--domains", str(domains),
            "--formats", "files", str(folder / "corpus"))
    if not (data / "lake" / "catalog.sqlite").exists():
        run("ingest", "--data-dir", str(data), str(folder / "corpus" / "files"))
    started = time.perf_counter()
    run("rebuild", "--data-dir", str(data))  # today's SQL, even for a reused warehouse
    return folder / "corpus" / "incidents.json", data, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20, help="scenario corpora (seeds 1..N)")
    parser.add_argument("--domains", type=int, default=20, help="domains per scenario corpus")
    parser.add_argument("--clean-seeds", type=int, default=10, help="clean-background corpora")
    parser.add_argument("--clean-domains", type=int, default=30, help="domains per clean corpus")
    parser.add_argument("--out", type=Path, default=ROOT / "bench-out" / "detection")
    parser.add_argument("--results", type=Path, default=ROOT / "docs" / "detection.md")
    args = parser.parse_args()

    rows: list[tuple[str, Scores]] = []
    builds: list[float] = []
    for seed in range(1, args.seeds + 1):
        truth, db, took = corpus(args.out, "all", seed, args.domains)
        rows.append((f"seed {seed}", score(truth, db)))
        builds.append(took)
        print(f"scenarios seed {seed}: recall {rows[-1][1].recall:.2f} precision {rows[-1][1].precision:.2f}", flush=True)
    clean_alarms: list[str] = []
    for seed in range(101, 101 + args.clean_seeds):
        _, db, took = corpus(args.out, "clean", seed, args.clean_domains)
        builds.append(took)
        found = load_problems(db)
        clean_alarms += [f"seed {seed}: {p['title']}" for p in found]
        print(f"clean seed {seed}: {len(found)} problems", flush=True)

    false_alarms = [f"{name}: {alarm}" for name, s in rows for alarm in s.false_alarms]
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    body = "\n".join([
        BEGIN, "",
        f"Run {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC on {platform.processor() or platform.machine()}, "
        f"Python {platform.python_version()}, commit {commit}:",
        "", "```", f".venv/bin/python benchmarks/detection_eval.py --seeds {args.seeds} --domains {args.domains} "
        f"--clean-seeds {args.clean_seeds} --clean-domains {args.clean_domains}", "```", "",
        f"{args.seeds} scenario corpora ({args.domains} domains, 90 days, every scenario once each). Seeds 1-6 "
        "were looked at while the thresholds were chosen; the others and the clean seeds (101 on) were not:", "",
        markdown_table(rows), "",
        f"Clean backgrounds: {args.clean_seeds} corpora of {args.clean_domains} domains x 90 days with no incident: "
        f"**{len(clean_alarms)} problems opened**.", "",
        f"Model rebuild (every SQL model, detection included) per corpus: median "
        f"{sorted(builds)[len(builds) // 2]:.1f} s, max {max(builds):.1f} s (whole `tlsrpt rebuild` process).", "",
        "False alarms:" if false_alarms or clean_alarms else "False alarms: none.",
        *[f"- {a}" for a in false_alarms + clean_alarms], "", END,
    ])
    text = args.results.read_text(encoding="utf-8")
    if BEGIN not in text:
        raise SystemExit(f"{args.results} has no results markers ({BEGIN})")
    head, rest = text.split(BEGIN, 1)
    args.results.write_text(head + body + rest.split(END, 1)[1], encoding="utf-8")
    print(f"results written to {args.results}")


if __name__ == "__main__":
    main()
