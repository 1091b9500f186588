"""The ingest part of the page: one table per size (every row, side by side), the second set of
100k rows when kept, what each row runs, and the scaling table with its reading."""

from __future__ import annotations

from benchmarks.suite.report.figures import (
    ROW_LABELS,
    human,
    med,
    mib,
    qrate,
    quiet_run,
    rate,
    spread,
    walls,
    with_memory,
)


def ingest_table(state, n) -> list[str]:
    s = state["sizes"][str(n)]
    ing = s["ingest"]
    rows = ing["rows"]
    gz = s["files_meta"]["gz_bytes"]
    mbox_bytes = s["mbox_meta"]["bytes"]
    pd_rate = rate(state, n, "parsedmarc")
    f2_rate = rate(state, n, "floor2")
    lines = [f"#### {n:,} reports ({gz / 1e6:,.1f} MB of `.json.gz` files, "
             f"{s['files_meta']['json_bytes'] / 1e6:,.0f} MB of JSON; mbox {mbox_bytes / 1e6:,.0f} MB)", "",
             "| row | runs | wall s, median (min-max) | reports/s | MB/s in | CPU s | CPU µs/report "
             "| peak RSS, largest process | peak RSS, tree sum | peak PSS, tree sum | reports OK "
             "| speed vs parsedmarc | share of 2-proc floor | others' load (cores) | quietest run: wall s (others' load) |",
             "|" + "---|" * 15]
    for key, label in ROW_LABELS.items():
        runs = rows.get(key, [])
        if not runs:
            continue
        w = med(walls(runs))
        size = mbox_bytes if key == "ours_mbox" else gz
        r = n / w
        ok = runs[-1]["ok"]
        failed = runs[-1]["failed"]
        lines.append(
            f"| {label} | {len(runs)} | {spread(runs)} | {r:,.0f} | {size / 1e6 / w:,.1f} "
            f"| {med([x['cpu'] for x in runs]):,.1f} | {med([x['cpu'] for x in runs]) / n * 1e6:,.0f} "
            f"| {mib(max(x['max_rss_kb'] for x in runs))} | {mib(max(x['tree_rss_kb'] for x in with_memory(ing, key)))} "
            f"| {mib(max(x['tree_pss_kb'] for x in with_memory(ing, key)))} "
            f"| {ok:,}{f' ({failed:,} rejected/dup)' if failed else ''} "
            f"| {r / pd_rate:.2f}x | {r / f2_rate:.2f} "
            f"| {med([x['foreign'] for x in runs]):.2f} (max {max(x['foreign'] for x in runs):.2f}) "
            f"| {quiet_run(state, n, key)['wall']:.2f} ({quiet_run(state, n, key)['foreign']:.2f}) |")
    cli = state.get("cli")
    if cli and cli["size"] == n and cli["runs"]:
        runs = cli["runs"]
        w = med(walls(runs))
        lines.append(
            f"| parsedmarc CLI `--offline -o DIR -r files/` | {len(runs)} | {spread(runs)} | {n / w:,.0f} "
            f"| {gz / 1e6 / w:,.1f} | {med([x['cpu'] for x in runs]):,.1f} "
            f"| {med([x['cpu'] for x in runs]) / n * 1e6:,.0f} | {mib(max(x['max_rss_kb'] for x in runs))} "
            f"| {mib(max(x['tree_rss_kb'] for x in runs))} | {mib(max(x['tree_pss_kb'] for x in runs))} "
            f"| {runs[-1]['ok'] if runs[-1]['ok'] is not None else '?'} | {n / w / pd_rate:.2f}x "
            f"| {n / w / f2_rate:.2f} | {med([x['foreign'] for x in runs]):.2f} | - |")
    ours = rows.get("ours_files", [])
    inner = [x["inner"] for x in ours if x.get("inner")]
    notes = []
    if inner:
        notes.append(f"ours (files): the ingest itself (`N inputs in S s` as printed) took {med(inner):.2f} s of the "
                     f"{med(walls(ours)):.2f} s; the rest is start-up and the model build in the lake.")
    split = ing.get("memory", {}).get("ours_core", {})
    if split.get("cpu_descendants"):
        notes.append(f"ours (core tables), CPU by process in the sampled run (each process as last seen, every 50 ms): "
                     f"the committing process (walk, decide, land, the lake's inserts and commits, start-up) "
                     f"{split['cpu_own']:,.1f} s, the parser processes {split['cpu_descendants']:,.1f} s together "
                     f"({split['cpu_descendants'] / n * 1e6:,.0f} µs a report); the whole tree "
                     f"{split['cpu']:,.1f} s (sampling adds a few %).")
    out_b = [x["out_bytes"] for x in ours if x.get("out_bytes")]
    if out_b:
        notes.append(f"ours wrote {med(out_b) / 1e6:,.0f} MB per run (landing packs + the lake's catalog and Parquet files).")
    pdx = ing.get("extra", {}).get("parsedmarc", {}).get("failures")
    if pdx:
        notes.append("parsedmarc rejected: " + "; ".join(f"{c:,} x `{m}`" for m, c in pdx)
                     + " (ours loads these: see the conformance flags in README.md).")
    if s.get("same_reports") is not None:
        notes.append("the files and the mbox hold the same reports (their `ground_truth.json` agree)" if s["same_reports"]
                     else "WARNING: the files and the mbox do not hold the same reports (generator changed)")
    mb = ing.get("extra", {}).get("ours_mbox")
    if mb:
        notes.append(f"ours (mbox): {mb['inputs']:,} inputs, {mb['loaded']:,} loaded, {mb['duplicates']:,} "
                     f"duplicate, {mb['quarantined']:,} quarantined.")
    return lines + [""] + [f"- {x}" for x in notes] + [""]


def ingest_section(state, sizes) -> list[str]:
    """Ours vs parsedmarc vs the floor: how to read the tables, one per size, the rows."""
    L: list[str] = []
    L += ["## Ingest: ours vs parsedmarc vs the floor", "",
          "Every row is a whole process (interpreter start-up and imports included) timed from outside; "
          "`wall s` is the median with the min-max over the runs. reports/s and MB/s divide the corpus by the "
          "median wall (MB/s of the compressed `.json.gz` input, or of the mbox for the mbox row). CPU s: "
          "user + system of the whole process tree. Peak RSS, largest process: `ru_maxrss` from "
          "`/usr/bin/time -v`. Tree sums: RSS and PSS summed over the process and all its descendants "
          "(our ingest forks one parser per core), sampled from /proc every 50 ms in one extra run per row that "
          "is not timed (sampling slows a two-process run ~8 %, a one-process run not at all); RSS counts pages that "
          "forked workers share with the parent once per process, PSS splits them. Speed vs parsedmarc: "
          "this row's reports/s over parsedmarc's per-file parser's (above 1 = faster). Share of the "
          "2-proc floor: reports/s over the 2-process floor's.", ""]
    for n in sizes:
        L += ingest_table(state, n)
    rr = state.get("rerun_ingest_100000")
    if rr:
        L += [f"A second set of the 100k rows, run alone at {rr.get('started', '?')} after the full run (not "
              "merged into the figures above, which stay those of one run). It shows how much this shared "
              "machine's speed moves between runs: the same rows, other sessions mostly idle, yet CPU seconds "
              "per report differ by tens of percent from the first set (a virtual machine: its neighbours "
              "are not visible in its own load).", "",
              "| row | wall s, median (min-max) | CPU s, median | reports/s | others' load, median (max) |",
              "|---|---|---|---|---|"]
        for key, label in ROW_LABELS.items():
            runs = rr["rows"].get(key, [])
            if runs:
                L.append(f"| {label} | {spread(runs)} | {med([x['cpu'] for x in runs]):.1f} "
                         f"| {100_000 / med(walls(runs)):,.0f} | {med([x['foreign'] for x in runs]):.2f} "
                         f"({max(x['foreign'] for x in runs):.2f}) |")
        o, p = (100_000 / med(walls(rr["rows"][k])) for k in ("ours_files", "parsedmarc"))
        f2 = 100_000 / med(walls(rr["rows"]["floor2"]))
        L += ["", f"Ratios in this second set: ours / parsedmarc {o / p:.2f}x, ours / two-core floor {o / f2:.2f}.", ""]
    L += ["Rows:", "",
          "- **ours (core tables)**: `tlsrpt ingest --no-models --data-dir <fresh empty dir> <corpus>/files` "
          "with the default workers (one per core): walk, sniff, gunzip, strict JSON, RFC 8460 validation, "
          "dedupe, raw bytes landed in a pack (fsync), the core tables of the lake (one commit per batch).",
          "- **ours (files)**: the same without `--no-models`, as `tlsrpt ingest` runs by default: then the "
          "SQL models built in the lake (staging, marts, anomaly detection) and the build's snapshot recorded for "
          "the dashboard.",
          "- **ours (mbox)**: the same command on one mbox holding the same reports, one message each "
          "(`multipart/report`, gzip attachment, base64): also MIME parsing and the DKIM verdict (no "
          "signature: `none`).",
          "- **parsedmarc**: `parsedmarc.parse_report_file(path, offline=True)` per file in one process, "
          "what its CLI does per file with its default `n_procs=1`. Parse only.",
          "- **parsedmarc CLI**: `parsedmarc --offline -o DIR -r <files>` (its whole CLI: parse, then write "
          "JSON and CSV output; stdout to a file).",
          "- **floor**: read each file, `gzip.decompress`, `json.loads`: the least any Python ingest of these "
          "files must do; 1 process, and a 2-process fork pool (chunks of 500 files).", ""]
    return L


def scaling_section(state, sizes, chart_name) -> list[str]:
    """Time per report and peak memory per size, and what the least-disturbed runs say."""
    L: list[str] = []
    L += ["## Scaling", "", f"![scaling chart]({chart_name})", "",
          "| reports | ours files µs/report | ours mbox µs/report | parsedmarc µs/report | floor 1p µs/report "
          "| floor 2p µs/report | ours files peak RSS (tree) | ours mbox peak RSS (tree) | ours files runs |",
          "|" + "---|" * 9]
    for n in sizes:
        ing = state["sizes"][str(n)]["ingest"]
        rows = ing["rows"]

        def us(k):
            return f"{med(walls(rows[k])) / n * 1e6:,.1f}" if rows.get(k) else "n/a"

        def rss(k):
            return mib(max(x["tree_rss_kb"] for x in with_memory(ing, k))) if rows.get(k) else "n/a"

        L.append(f"| {n:,} | {us('ours_files')} | {us('ours_mbox')} | {us('parsedmarc')} | {us('floor1')} "
                 f"| {us('floor2')} | {rss('ours_files')} | {rss('ours_mbox')} | {len(rows.get('ours_files', []))} |")
    L += ["", "Wall time per report = median wall / reports (so start-up weighs on the small sizes). A flat line "
          "is linear scaling.", ""]
    if 100_000 in sizes and sizes[-1] >= 1_000_000:
        top = sizes[-1]
        q = {k: (1e6 / qrate(state, 100_000, k), 1e6 / qrate(state, top, k))
             for k in ROW_LABELS if qrate(state, 100_000, k) and qrate(state, top, k)}
        L += ["Least-disturbed runs only (µs per report at 100k -> at " + human(top) + "): "
              + "; ".join(f"{_short_label(k)} {a:.0f} -> {b:.0f} ({b / a:.2f}x)" for k, (a, b) in q.items()) + ". "
              + _scaling_reading(q), ""]
    return L


def _scaling_reading(q: dict[str, tuple[float, float]]) -> str:
    """What the least-disturbed growth per report says, written from the figures themselves."""
    slower = sorted(k for k, (a, b) in q.items() if b > a * 1.05)
    if not slower:
        return "No row gets more than 5 % slower per report at the larger size."
    names = ", ".join(_short_label(k) for k in slower)
    return (f"Slower per report at the larger size by more than 5 %: {names}. Where the floor or parsedmarc "
            "slow down too, the likely cause is the file system: the 1M corpus puts hundreds of thousands of "
            "small files in each reporter's folder, and the page cache holds ~4 GB of one-page files. Read "
            "ours' growth against the floor's.")


def _short_label(key: str) -> str:
    """A row's name in running text: "ours (core)", "parsedmarc", "floor 2p"."""
    if key.startswith("ours"):
        return f"{ROW_LABELS[key].split(':')[0]} ({key.split('_')[1]})"
    if key.startswith("floor"):
        return f"{ROW_LABELS[key].split(':')[0]} {key[-1]}p"
    return "parsedmarc"
