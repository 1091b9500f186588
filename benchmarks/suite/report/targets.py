"""The issue's targets, evaluated on the kept figures: MET, NOT MET or INCONCLUSIVE (the medians and
the least-disturbed runs disagree), each with the figures it rests on."""

from __future__ import annotations

from benchmarks.suite.report.figures import (
    GIB_KB,
    human,
    med,
    ms,
    new_days,
    qrate,
    rate,
    walls,
    with_memory,
)

ON_TOP_RATIO = 1.5  # issue 17: one new day on top of the history costs at most 1.5x the same day alone
CORE_VS_PARSEDMARC_100K = 1.5  # issue 19: core tables vs parsedmarc's per-file parser, at 100k
CORE_VS_PARSEDMARC_1M = 2.0  # ... and at 1M
CORE_FLOOR_SHARE = 0.3  # issue 19: core tables at 1M, as a share of the two-core floor
MBOX_RATIO = 1.5  # issue 19: an mbox's per-report time over the same reports' as files
# Issue 19's speed targets are beyond this design's lower bound on two cores (LOWER_BOUND_READING);
# the issue then asks what is proposed instead: about three quarters of that bound, as ours holds.
PROPOSED_CORE_VS_PARSEDMARC_100K = 1.1
PROPOSED_CORE_VS_PARSEDMARC_1M = 1.3
PROPOSED_CORE_FLOOR_SHARE = 0.22
PROPOSED_WHOLE_VS_PARSEDMARC = 0.75
# Measured outside the suite (the lean pipeline is a bound, not something the suite ships): the
# figures and their dates are those of benchmarks/results/lean_ingest_bound*.md.
LOWER_BOUND_READING: list[str] = [
    "Issue 19's three speed targets above (the core tables against parsedmarc's parser and against the floor, the "
    "whole ingest against parsedmarc's parser) are beyond what this design can do on two cores, measured as the "
    "issue asks. "
    "`benchmarks/lean_ingest_bound.py` runs the mandated work only, with today's per-report pieces: two forked "
    "workers read, hash and gunzip each file, decode and check it on the fast path, hash it twice, flatten it with "
    "`rows_for` and send Arrow IPC; the committing process lands one pack and commits the core tables and a slim "
    "deliveries table into the lake per batch of 20,000. It leaves out what keeps the run's guarantees (sniffing "
    "every format, the path that quarantines a report with its reason, a part and a refusal record per payload, the "
    "arrival journal a crash is replayed from, walking the folders), so it bounds the design rather than being one. "
    "Beside parsedmarc's parser and the floor in the same runs (three runs a row, interleaved): at 100k it reached "
    "**1.38x-1.50x** parsedmarc (three runs of the script, 2026-12-05 and 06, the last in "
    "benchmarks/results/lean_ingest_bound.md; asked: 1.5x); at 1M "
    "**1.70x-1.75x** (asked: 2x) and **0.30** of the two-core floor (asked: 0.3; 2026-12-06, "
    "benchmarks/results/lean_ingest_bound_n1000000.md); with the model build's ~4 s added, its whole ingest at 100k "
    "would be ~1x (asked: 1x). Ours ran at 0.77-0.82 of the lean pipeline's rate in the same runs: that is what "
    "the guarantees cost. So 2x at 1M is out of reach, and the other three are at the bound's edge, reached (when "
    "at all) only without the guarantees. Where the time goes: the profile below and docs/architecture.md (\"Where a two-worker run's time "
    "goes\", \"The design's lower bound at 1M\"). What would move the bound: the per-report decode, checks and "
    "flatten (~55 µs of a worker's ~107) done natively for a whole chunk; DuckDB's JSON functions as that path "
    "were built and measured no faster (\"Ingest hot path: batches in DuckDB\"). Proposed instead, three quarters "
    "of the lean bound (an mbox at most 1.5x the files stays as asked):",
]
INCONCLUSIVE = "inconclusive"
STEADY = "steady"


def verdict(on_medians: bool, on_quietest: bool):
    """MET / NOT MET when the medians and the least-disturbed runs agree; else inconclusive (the
    machine is shared: other sessions' load moves single runs by tens of percent)."""
    return on_medians if on_medians == on_quietest else INCONCLUSIVE


def combine(oks):
    if not oks:
        return None
    if all(o is True for o in oks):
        return True
    if any(o is False for o in oks):
        return False
    return INCONCLUSIVE


def status(ok):
    if ok is None:
        return "not measured"
    if ok == STEADY:
        return ("**NOT MET** in the full run; met on the later code once the models' fingerprints are recorded "
                "(last re-run values)")
    if ok == INCONCLUSIVE:
        return "**INCONCLUSIVE** (met on the medians, not on the least-disturbed runs, or the reverse)"
    return "**MET**" if ok else "**NOT MET**"


def _ratio_target(state, sizes, row: str, label: str, at_least, times: str, tail: str = "",
                  ours: str = "ours_files", wanted: str = "asked") -> tuple[str, bool | None]:
    """(figures, verdict) for "our ingest rate (row `ours`) >= at_least x that row's", per size, on
    the medians and on the quietest runs; `at_least` is one number or a {size: number} map (issue 19
    asks more at 1M than at 100k); `times` follows each ratio ("x" or ""), `tail` the bold one;
    `wanted` names the threshold (asked by the issue, or proposed instead)."""
    figs, oks = [], []
    for n in sizes:
        want = at_least[n] if isinstance(at_least, dict) else at_least
        o, other = rate(state, n, ours), rate(state, n, row)
        if o and other:
            qo, qother = qrate(state, n, ours), qrate(state, n, row)
            figs.append(f"{human(n)}: ours {o:,.0f}/s vs {label} {other:,.0f}/s = **{o / other:.2f}{times}**{tail}"
                        f" ({wanted}: {want:g}{times}; quietest runs: {qo / qother:.2f}{times})")
            oks.append(verdict(o / other >= want, qo / qother >= want))
    return "; ".join(figs) or "n/a", combine(oks)


def _mbox_target(state, sizes) -> tuple[str, bool | None]:
    """Issue 19: an mbox costs at most 1.5x the per-report time of the same reports as files
    (whole `tlsrpt ingest` both, so the models' fixed cost is in both)."""
    figs, oks = [], []
    for n in sizes:
        f, m = rate(state, n, "ours_files"), rate(state, n, "ours_mbox")
        if f and m:
            qf, qm = qrate(state, n, "ours_files"), qrate(state, n, "ours_mbox")
            figs.append(f"{human(n)}: files {1e6 / f:.0f} µs, mbox {1e6 / m:.0f} µs per report = **{f / m:.2f}x** "
                        f"(quietest runs: {qf / qm:.2f}x)")
            oks.append(verdict(f / m <= MBOX_RATIO, qf / qm <= MBOX_RATIO))
    return "; ".join(figs) or "n/a", combine(oks)


def _speed_targets(state, core_100k: float, core_1m: float, floor_share: float, whole: float,
                   wanted: str = "asked") -> list[tuple[str, str, bool | None]]:
    """Issue 19's three speed targets with the given thresholds: the core tables against
    parsedmarc's parser (at 100k and at 1M) and against the two-core floor at 1M, the whole ingest
    against parsedmarc's parser at 100k."""
    sizes = sorted(int(k) for k, v in state["sizes"].items() if "ingest" in v)
    big = [n for n in sizes if n >= 100_000] or sizes[-1:]
    core_asks = {n: (core_1m if n >= 1_000_000 else core_100k) for n in big}
    top_sizes = [n for n in sizes if n >= 1_000_000]
    return [
        (f"core-table ingest (`--no-models`: parse, validate, dedupe, land raw, write tables) >= {core_100k:g}x "
         f"parsedmarc's per-file parser at 100k and >= {core_1m:g}x at 1M (issue 19)",
         *_ratio_target(state, big, "parsedmarc", "parsedmarc", core_asks, "x", ours="ours_core", wanted=wanted)),
        (f"core-table ingest >= {floor_share:g} of the machine's two-core floor at 1M (issue 19)",
         *(_ratio_target(state, top_sizes, "floor2", "floor (2 procs)", floor_share, "", " of it",
                         ours="ours_core", wanted=wanted) if top_sizes else ("n/a (1M not in this run)", None))),
        (f"whole `tlsrpt ingest` (models included) >= {whole:g}x parsedmarc's per-file parser at 100k (issue 19)",
         *_ratio_target(state, [n for n in big if n == 100_000], "parsedmarc", "parsedmarc", whole, "x",
                        wanted=wanted)),
    ]


def proposed_targets(state) -> list[tuple[str, str, bool | None]]:
    """Issue 19's speed targets as proposed instead of the asked ones (see LOWER_BOUND_READING)."""
    return _speed_targets(state, PROPOSED_CORE_VS_PARSEDMARC_100K, PROPOSED_CORE_VS_PARSEDMARC_1M,
                          PROPOSED_CORE_FLOOR_SHARE, PROPOSED_WHOLE_VS_PARSEDMARC, wanted="proposed")


def proposed_section(state) -> list[str]:
    """Why issue 19's speed targets are not met (the design's lower bound, measured) and the ones
    proposed instead, evaluated on this run's figures like the others."""
    rows = proposed_targets(state)
    if all(ok is None for _, _, ok in rows):
        return []
    return ["### Issue 19: its speed targets are beyond this design's lower bound; proposed instead", "",
            *LOWER_BOUND_READING, "", "| proposed target | measured | status |", "|---|---|---|",
            *(f"| {name} | {fig} | {status(ok)} |" for name, fig, ok in rows), ""]


def targets(state) -> list[tuple[str, str, bool | None]]:
    sizes = sorted(int(k) for k, v in state["sizes"].items() if "ingest" in v)
    big = [n for n in sizes if n >= 100_000] or sizes[-1:]
    # Issue 19 (the ingest hot path) restates the spine issue's speed targets; these replace its
    # 4x parsedmarc / 20x CLI / half the floor, which that issue measured out of reach of the design.
    out = _speed_targets(state, CORE_VS_PARSEDMARC_100K, CORE_VS_PARSEDMARC_1M, CORE_FLOOR_SHARE, 1)
    out.append(("an mbox costs <= 1.5x the per-report time of the same reports as files (issue 19)",
                *_mbox_target(state, big)))
    # 4. 1M with peak RSS <= 2 GiB (whole tree)
    top = sizes[-1] if sizes else None
    if top:
        runs = with_memory(state["sizes"][str(top)]["ingest"], "ours_files")
        rss = max((r["tree_rss_kb"] for r in runs), default=0)
        pss = max((r["tree_pss_kb"] for r in runs), default=0)
        mx = max((r["max_rss_kb"] for r in runs), default=0)
        runs_m = with_memory(state["sizes"][str(top)]["ingest"], "ours_mbox")
        rss_m = max((r["tree_rss_kb"] for r in runs_m), default=0)
        out.append((f"{human(top)} reports ingested with peak RSS <= 2 GiB (summed over the process tree)",
                    f"files: **{rss / GIB_KB:.2f} GiB** summed RSS (PSS {pss / GIB_KB:.2f} GiB; largest single "
                    f"process {mx / GIB_KB:.2f} GiB); mbox: {rss_m / GIB_KB:.2f} GiB summed RSS",
                    (rss <= 2 * GIB_KB and (not runs_m or rss_m <= 2 * GIB_KB)) if top >= 1_000_000 else None))
    # 5. linear: time per report at 1M within 20 % of 100k
    if top and top > 100_000 and "100000" in state["sizes"]:
        a = 1 / rate(state, 100_000, "ours_files") * 1e6
        b = 1 / rate(state, top, "ours_files") * 1e6
        am = rate(state, 100_000, "ours_mbox")
        bm = rate(state, top, "ours_mbox")
        extra = ""
        if am and bm:
            qam, qbm = qrate(state, 100_000, "ours_mbox"), qrate(state, top, "ours_mbox")
            extra = (f"; mbox {1e6 / am:.0f} -> {1e6 / bm:.0f} µs ({am / bm:.2f}x; quietest runs "
                     f"{1e6 / qam:.0f} -> {1e6 / qbm:.0f} µs = {qam / qbm:.2f}x)")
        qa = 1e6 / qrate(state, 100_000, "ours_files")
        qb = 1e6 / qrate(state, top, "ours_files")
        out.append((f"time per report at {human(top)} within 20 % of that at 100k",
                    f"files: {a:.0f} µs at 100k -> {b:.0f} µs at {human(top)} = **{b / a:.2f}x** (quietest runs: "
                    f"{qa:.0f} -> {qb:.0f} µs = {qb / qa:.2f}x){extra}",
                    verdict(b / a <= 1.2, qb / qa <= 1.2)))
    else:
        out.append(("time per report at 1M within 20 % of that at 100k", "n/a (1M not in this run)", None))
    inc = state.get("incremental")
    if inc:
        i1, i2 = med(walls(inc["ingest_empty"])), med(walls(inc["run_empty"]))
        ir = state.get("incremental_rerun") or {}
        extra1 = extra2 = ""
        steady = None
        if ir.get("ingest_empty") and ir.get("run_empty"):
            w1, w2 = walls(ir["ingest_empty"]), walls(ir["run_empty"])
            extra1 = (f"; re-run on later code ({ir.get('git', '?')}), each run: ingest "
                      f"{', '.join(f'{x:.2f}' for x in w1)} s, run {', '.join(f'{x:.2f}' for x in w2)} s")
            steady = w1[-1] <= 3 and w2[-1] <= 3
        if ir.get("day_alone") and ir.get("day_on_top"):
            ra, rb = med(walls(ir["day_alone"])), med(walls(ir["day_on_top"]))
            extra2 = f"; re-run on later code: {ra:.2f} s vs {rb:.2f} s = {rb / ra:.2f}x"
        out.append((f"a run with nothing new <= 3 s (on {human(inc['size'])})",
                    f"`tlsrpt ingest` of an empty folder **{i1:.2f} s**; `tlsrpt run` with an empty inbox "
                    f"**{i2:.2f} s**{extra1}",
                    (i1 <= 3 and i2 <= 3) if not steady or (i1 <= 3 and i2 <= 3) else STEADY))
        # issue 17 (the lake) asks 1.5x at ~100k and at 1M; figures kept from before the lake were
        # judged on the older 2x, on the largest warehouse only
        at_most = ON_TOP_RATIO if "lake_bytes" in inc else 2
        per_size = state.get("incremental_by_size") or {str(inc["size"]): inc}
        figs, oks = [], []
        for size, one, a, b in new_days(per_size):
            figs.append(f"on {human(size)}: {one.get('day_alone_info', {}).get('loaded', '?'):,} reports, "
                        f"alone {a:.2f} s, on top {b:.2f} s = **{b / a:.2f}x**")
            oks.append(b / a <= at_most)
        out.append((f"one new day on top of the history <= {at_most:g}x that day alone (whole `tlsrpt ingest`)",
                    "; ".join(figs) + extra2, combine(oks)))
    dash = state.get("dashboard")
    if dash:
        top_d = max(int(k) for k in dash)
        qs = dash[str(top_d)]["queries"]
        worst = max(qs.items(), key=lambda kv: med(kv[1]["times"]))
        over = [k for k, v in qs.items() if med(v["times"]) > 0.2]
        out.append((f"every dashboard query <= 200 ms median at {human(top_d)}",
                    f"{len(qs)} queries; slowest median **{ms(med(worst[1]['times']))} ms** ({worst[0]})"
                    + (f"; over 200 ms: {', '.join(over)}" if over else ""),
                    (not over) if top_d >= 1_000_000 else None))
    return out
