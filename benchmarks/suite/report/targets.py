"""The issue's targets, evaluated on the kept figures: MET, NOT MET or INCONCLUSIVE (the medians and
the least-disturbed runs disagree), each with the figures it rests on."""

from __future__ import annotations

from benchmarks.suite.report.figures import (
    GIB_KB,
    human,
    med,
    ms,
    qrate,
    rate,
    walls,
    with_memory,
)

ON_TOP_RATIO = 1.5  # issue 17: one new day on top of the history costs at most 1.5x the same day alone
ISSUE_CLI = 2_750  # parsedmarc's CLI, reports/s at 100k as measured in the issue (when not measured here)
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


def _ratio_target(state, sizes, row: str, label: str, at_least: float, times: str, tail: str = "",
                  ours: str = "ours_files") -> tuple[str, bool | None]:
    """(figures, verdict) for "our ingest rate (row `ours`) >= at_least x that row's", per size, on
    the medians and on the quietest runs; `times` follows each ratio ("x" or ""), `tail` the bold one."""
    figs, oks = [], []
    for n in sizes:
        o, other = rate(state, n, ours), rate(state, n, row)
        if o and other:
            qo, qother = qrate(state, n, ours), qrate(state, n, row)
            figs.append(f"{human(n)}: ours {o:,.0f}/s vs {label} {other:,.0f}/s = **{o / other:.2f}{times}**{tail}"
                        f" (quietest runs: {qo / qother:.2f}{times})")
            oks.append(verdict(o / other >= at_least, qo / qother >= at_least))
    return "; ".join(figs) or "n/a", combine(oks)


def targets(state) -> list[tuple[str, str, bool | None]]:
    sizes = sorted(int(k) for k, v in state["sizes"].items() if "ingest" in v)
    big = [n for n in sizes if n >= 100_000] or sizes[-1:]
    out = []
    # 1. >= 4x parsedmarc's per-file parser
    out.append(("end-to-end ingest >= 4x parsedmarc's per-file parser (same files, same run)",
                *_ratio_target(state, big, "parsedmarc", "parsedmarc", 4, "x")))
    # 1b. the spine issue's floor: the core-table ingest at least parsedmarc's parser
    out.append(("core-table ingest (`--no-models`: parse, validate, dedupe, land raw, write tables) >= "
                "parsedmarc's per-file parser (the spine issue)",
                *_ratio_target(state, big, "parsedmarc", "parsedmarc", 1, "x", ours="ours_core")))
    # 2. >= 20x the CLI
    cli = state.get("cli")
    n_cli = cli["size"] if cli else 100_000
    o = rate(state, n_cli, "ours_files") or (rate(state, sizes[-1], "ours_files") if sizes else None)
    if cli and cli["runs"]:
        c = cli["size"] / med(walls(cli["runs"]))
        src = f"parsedmarc CLI measured at {human(cli['size'])}: {c:,.0f}/s"
    else:
        c = ISSUE_CLI
        src = f"parsedmarc CLI {c:,}/s as measured in the issue (not measured here)"
    out.append(("end-to-end ingest >= 20x parsedmarc's CLI",
                f"{src}; ours {o:,.0f}/s = **{o / c:.1f}x**" if o else "n/a",
                (o / c >= 20) if o else None))
    # 3. >= half the two-core floor
    out.append(("end-to-end ingest >= half the machine's two-core floor",
                *_ratio_target(state, big, "floor2", "floor (2 procs)", 0.5, "", " of it")))
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
        a, b = med(walls(inc["day_alone"])), med(walls(inc["day_on_top"]))
        # issue 17 (the lake) asks 1.5x; figures kept from before the lake were judged on the older 2x
        at_most = ON_TOP_RATIO if "lake_bytes" in inc else 2
        out.append((f"one new day on top of {human(inc['size'])} <= {at_most:g}x that day alone (whole `tlsrpt ingest`)",
                    f"{inc.get('day_alone_info', {}).get('loaded', '?'):,} reports: alone {a:.2f} s, on top "
                    f"{b:.2f} s = **{b / a:.2f}x**{extra2}", b / a <= at_most))
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
