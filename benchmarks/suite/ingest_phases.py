"""The side-by-side phases, on the same files in the same run: `corpora` (each size's corpora and
parsedmarc's venv), `ingest` (every row per size, interleaved, then one sampled run per row for
memory) and `cli` (parsedmarc's own command line, for the issue's 20x target)."""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

from benchmarks import ingest_vs_parsedmarc as base  # stdlib only at import
from benchmarks.suite import REPO, log
from benchmarks.suite.corpora import ensure_day, ensure_pair
from benchmarks.suite.measure import Run, measure

if TYPE_CHECKING:
    from benchmarks.suite.runner import Suite


SCRIPT_IVP = str(REPO / "benchmarks" / "ingest_vs_parsedmarc.py")


def phase_corpora(suite: Suite) -> None:
    for n in suite.sizes:
        corpus, meta, mbox_dir, mbox_meta, same = ensure_pair(suite.out, n, suite.args.seed, suite.tlsrpt)
        s = suite.state["sizes"].setdefault(str(n), {})
        s["files_meta"], s["mbox_meta"], s["same_reports"] = meta, mbox_meta, same
        s["corpus"] = str(corpus)
        log(f"corpus {n:,}: {meta['files']:,} files {meta['gz_bytes'] / 1e6:,.0f} MB gz; "
            f"mbox {mbox_meta['bytes'] / 1e6:,.0f} MB")
    # one later day per warehouse the incremental phase measures (issue 17: at ~100k and at 1M)
    for n in suite.incremental_sizes:
        day_dir, day_meta = ensure_day(suite.out, n, suite.args.seed)
        suite.state.setdefault("days", {})[str(n)] = {**day_meta, "dir": str(day_dir)}
        log(f"day 31 of the {n:,} world: {day_meta['reports']:,} reports, {day_meta['domains']} domains")
    suite.state["day_meta"] = suite.state["days"][str(suite.largest)]
    suite.state["pd_py"] = str(base.ensure_parsedmarc(suite.out))
    suite.state["phases"]["corpora"] = True


def phase_ingest(suite: Suite) -> None:
    pd_py = suite.state["pd_py"]
    for n in suite.sizes:
        s = suite.state["sizes"][str(n)]
        corpus = Path(s["corpus"])
        files = sorted(str(p) for p in (corpus / "files").rglob("*.json.gz"))
        if len(files) != s["files_meta"]["files"]:
            raise SystemExit(f"{corpus} changed; delete it")
        list_file = corpus / "files.txt"
        list_file.write_text("\n".join(files) + "\n")
        mbox = Path(s["mbox_meta"]["path"])
        log(f"{n:,}: warming the page cache")
        base.warm_cache(files)
        base.warm_cache(files)
        base.warm_cache([str(mbox)])
        del files
        rows = {
            "ours_core": f"{suite.tlsrpt} ingest --no-models --data-dir <fresh dir> {corpus}/files",
            "ours_files": f"{suite.tlsrpt} ingest --data-dir <fresh dir> {corpus}/files",
            "ours_mbox": f"{suite.tlsrpt} ingest --data-dir <fresh dir> {mbox}",
            "parsedmarc": f"{pd_py} {SCRIPT_IVP} _parsedmarc {list_file}",
            "floor1": f"{suite.py} {SCRIPT_IVP} _floor {list_file} 1",
            "floor2": f"{suite.py} {SCRIPT_IVP} _floor {list_file} 2",
        }
        results: dict[str, list] = {k: [] for k in rows}
        memory: dict[str, dict] = {}
        extra: dict = {}
        keep = suite.work / f"warehouse-{n}"

        def run(key: str, i: int | str, sample_memory: bool) -> Run:
            if key.startswith("ours"):
                d = suite.work / f"run-{key}-{n}-{i}"
                shutil.rmtree(d, ignore_errors=True)
                r, info = suite.ours(d, [mbox] if key == "ours_mbox" else [corpus / "files"],
                                    options=("--no-models",) if key == "ours_core" else (),
                                    sample_memory=sample_memory)
                r.out_bytes = base.du_bytes(d)
                extra[key] = info
                if key == "ours_files" and i == suite.repeats(n) - 1:
                    shutil.rmtree(keep, ignore_errors=True)
                    d.rename(keep)  # the warehouse later phases work on
                else:
                    shutil.rmtree(d, ignore_errors=True)
                return r
            cmd = [pd_py, SCRIPT_IVP, "_parsedmarc", str(list_file)] if key == "parsedmarc" else \
                  [str(suite.py), SCRIPT_IVP, "_floor", str(list_file), key[-1]]
            suite.quiet()
            r, stdout = measure(cmd, env=suite.env, sample_memory=sample_memory)
            res = json.loads(stdout.strip().splitlines()[-1])
            r.ok, r.failed, r.inner = res["ok"], res["failed"], res["inner_seconds"]
            if res.get("failures"):
                extra[key] = {"failures": res["failures"]}
            return r

        def save(partial: bool) -> None:
            s["ingest"] = {"rows": results, "memory": memory, "extra": extra, "commands": rows,
                           "warehouse": str(keep)}
            s["ingest"].update({"partial": True} if partial else {"loadavg_after": os.getloadavg()})
            suite.state_file.write_text(json.dumps(suite.state, indent=1, default=str))

        for i in range(suite.repeats(n)):
            for key in rows:
                r = run(key, i, sample_memory=False)  # timed runs do not sample (see measure)
                results[key].append(asdict(r))
                save(partial=True)
                log(f"{n:,} run {i + 1} {key:<11} {r.wall:7.2f} s  cpu {r.cpu:6.1f}  ok {r.ok}  "
                    f"others {r.foreign:.2f} cores")
        for key in rows:  # memory: one more run per row, sampled, not timed
            r = run(key, "memory", sample_memory=True)
            memory[key] = asdict(r)
            save(partial=True)
            log(f"{n:,} memory {key:<11} tree RSS {r.tree_rss_kb / 1024:6.0f} MiB  "
                f"PSS {r.tree_pss_kb / 1024:6.0f} MiB")
        save(partial=False)
        suite.save()
    suite.state["phases"]["ingest"] = True


def phase_cli(suite: Suite) -> None:
    n = max(x for x in suite.sizes if x <= 100_000)
    s = suite.state["sizes"][str(n)]
    corpus = Path(s["corpus"])
    pd_bin = str(Path(suite.state["pd_py"]).parent / "parsedmarc")
    runs = []
    reps = 1 if n >= 100_000 else suite.args.repeat
    for i in range(reps):
        outdir = suite.work / f"parsedmarc-cli-{n}"
        shutil.rmtree(outdir, ignore_errors=True)
        cmd = [pd_bin, "--offline", "-o", str(outdir), "-r", str(corpus / "files")]
        suite.quiet()
        r, _ = measure(cmd, env=suite.env, stdout_path=suite.work / "parsedmarc-cli.stdout")
        try:
            tls = json.loads((outdir / "smtp_tls.json").read_text())
            r.ok = len(tls)
        except (OSError, ValueError):
            r.ok = None
        runs.append(asdict(r))
        log(f"parsedmarc CLI {n:,}: {r.wall:.1f} s, {r.ok} smtp_tls reports written")
        shutil.rmtree(outdir, ignore_errors=True)
    suite.state["cli"] = {"size": n, "runs": runs,
                         "command": f"{pd_bin} --offline -o <dir> -r {corpus}/files  (stdout to a file)"}
    suite.state["phases"]["cli"] = True
    suite.save()
