"""The parts of the page measured on the largest warehouse: incremental runs (and their re-run on
later code), the mart rebuild model by model, and `tlsrpt rebuild`."""

from __future__ import annotations

from benchmarks.suite.report.figures import med, mib, new_days, spread, walls

# What the prose says the runs do, on the lake and, for figures kept from before it, on the DuckDB file.
AFTER_LOADING_LAKE = ("after loading: the model build (the incremental models redo only the days their new batches "
                      "touched, the others are rebuilt in full) and the build's snapshot recorded for the readers "
                      "(nothing is copied).")
AFTER_LOADING_FILE = ("after loading: the full mart rebuild and the snapshot publish (a copy of the DuckDB file), "
                      "which is where a bigger warehouse costs more.")
ON_TOP_INGEST_FILE = ("; measured separately at 1M: loading the known keys ~1.2 s, the Parquet export of the day's "
                      "partitions ~1.9 s, as each COPY scans the whole table, whose rows are not clustered by date, "
                      "and the final checkpoint ~2.5 s, as DuckDB rewrites and merges the partly filled row groups "
                      "at the tail of each table")
ON_TOP_MODELS_LAKE = ("the model build on top of the history (the incremental models redo the new day and their "
                      "look-back, the others are rebuilt in full over every report).")
ON_TOP_MODELS_FILE = ("the mart rebuild over all {size:,} reports and the snapshot copy, both O(warehouse) on every "
                      "run, as in the run with nothing new.")


def incremental_section(state) -> list[str]:
    """Nothing new, and one new day on top vs alone: where the time goes."""
    L: list[str] = []
    inc = state.get("incremental")
    if inc:
        dm = state.get("day_meta", {})
        on_lake = "lake_bytes" in inc  # figures kept from before the lake describe the DuckDB file
        L += ["## Incremental runs", "",
              f"On the {inc['size']:,}-report warehouse left by the last `tlsrpt ingest` run of the files "
              f"({inc.get('warehouse_bytes', 0) / 1e9:,.2f} GB on disk, of which {_store_size(inc)}). "
              "Every command is the whole process.", "",
              "| run | runs | wall s, median (min-max) | of which `ingest()` (as printed) | CPU s | peak RSS, tree sum |",
              "|---|---|---|---|---|---|"]
        for key, label in (("ingest_empty", "nothing new: `tlsrpt ingest <empty folder>`"),
                           ("run_empty", "nothing new: `tlsrpt run` (Dagster, empty inbox)"),
                           ("day_alone", f"one new day ({dm.get('reports', 0):,} reports) into an empty warehouse"),
                           ("day_on_top", f"the same day on top of the {inc['size']:,} reports"),
                           ("startup_cli", "for reference: `tlsrpt --help` (interpreter + CLI start-up)"),
                           ("startup_dagster", "for reference: `python -c 'import assets.definitions'` "
                                               "(loading the Dagster definitions)")):
            runs = inc.get(key, [])
            if runs:
                inner = [x["inner"] for x in runs if x.get("inner") is not None]
                L.append(f"| {label} | {len(runs)} | {spread(runs)} | {f'{med(inner):.1f} s' if inner else '-'} "
                         f"| {med([x['cpu'] for x in runs]):.1f} | {mib(max(x['tree_rss_kb'] for x in runs))} |")
        by_size = state.get("incremental_by_size") or {}
        if len(by_size) > 1:
            L += ["", "One new day on each kept warehouse (each size's own day 31, same commands):", "",
                  "| warehouse | the day's reports | alone, wall s | on top, wall s | on top / alone |",
                  "|---|---|---|---|---|"]
            for size, one, a, b in new_days(by_size):
                L.append(f"| {size:,} reports | {one.get('day_alone_info', {}).get('loaded', 0):,} "
                         f"| {spread(one['day_alone'])} | {spread(one['day_on_top'])} | {b / a:.2f}x |")
        L += ["",
              f"The new day is day 31 ({dm.get('start', '?')}) of the same simulated world as the "
              f"{inc['size']:,}-report corpus: the same seed and the same {dm.get('domains', '?')} policy domains, "
              "every report of that day (the day after the corpus's last). `tlsrpt generate` has no start-date "
              "option, so the suite calls the generator it runs, `pipeline.generate.write_corpus(..., days=1, "
              "start=2026-01-31)`. 'On top' runs on a fresh copy of the warehouse each time (the copy, "
              f"{inc.get('copy_seconds', 0):.0f} s with writing it out to disk, is not counted; each run starts "
              "with the disk idle, so the copy's writeback does not land in the runs after it). Both runs include what every ingest does "
              + (AFTER_LOADING_LAKE if on_lake else AFTER_LOADING_FILE), ""]
        mt = state.get("marts")
        if inc.get("ingest_empty") and mt and mt.get("whole") and mt["size"] == inc["size"]:
            tot = med(walls(inc["ingest_empty"]))
            inner = med([x["inner"] for x in inc["ingest_empty"] if x.get("inner") is not None])
            marts = med(mt["whole"])
            start = med(walls(inc.get("startup_cli", []))) if inc.get("startup_cli") else 0.0
            rest = max(tot - inner - start, 0.0)
            L += [f"Where the {tot:.2f} s of `tlsrpt ingest` with nothing new go at {inc['size']:,} reports: "
                  f"interpreter and CLI start-up ~{start:.1f} s (`tlsrpt --help`); `ingest()` itself {inner:.1f} s "
                  "(it finds nothing: no known keys are read, as `KnownState` loads on the first batch"
                  f"{'' if on_lake else ', no Parquet is exported'}); the remaining ~{rest:.1f} s "
                  f"{'open the lake (loading the DuckLake extensions) and ' if on_lake else ''}"
                  "check the SQL models' fingerprints (data, SQL, thresholds: unchanged, so none is rebuilt, where "
                  f"a full rebuild costs ~{marts:.1f} s on this warehouse, see Mart rebuild)"
                  + ("" if on_lake else " and the snapshot's stamp (unchanged, so the DuckDB file is not copied "
                     "again)") + ". `tlsrpt run` stops before Dagster in the same case "
                  "(nothing waiting, and the state is what the last run with every check passed left); its "
                  "first run after the ingest above materialized the graph once, hence the slowest run.", ""]
            if inc.get("day_on_top") and inc.get("day_alone"):
                a, b = med(walls(inc["day_alone"])), med(walls(inc["day_on_top"]))
                ia = med([x["inner"] for x in inc["day_alone"] if x.get("inner") is not None])
                ib = med([x["inner"] for x in inc["day_on_top"] if x.get("inner") is not None])
                L += [f"The new day: on top of {inc['size']:,} reports it costs {b:.1f} s against {a:.1f} s alone. "
                      f"Of the {b - a:.1f} s more, the ingest itself accounts for {ib - ia:.1f} s (`ingest()` "
                      f"{ia:.1f} s alone, {ib:.1f} s on top{'' if on_lake else ON_TOP_INGEST_FILE}), and "
                      f"everything after it for {(b - ib) - (a - ia):.1f} s: "
                      + (ON_TOP_MODELS_LAKE if on_lake else ON_TOP_MODELS_FILE.format(size=inc["size"])), ""]
        if inc.get("day_on_top_info"):
            top_i, alone_i = inc["day_on_top_info"], inc.get("day_alone_info") or {}
            L += [f"On top: {top_i['inputs']:,} inputs, {top_i['loaded']:,} loaded, {top_i['duplicates']:,} duplicate; "
                  f"alone: {alone_i.get('inputs', 0):,} inputs, {alone_i.get('loaded', 0):,} loaded. "
                  + ("The duplicates on top are day-31 reports whose organization + report-id already occur in the "
                     "first 30 days: most likely ids the generator draws at random, which repeat because a "
                     "separate generator run restarts each domain's random streams. They are read and parsed all "
                     "the same, so both runs do nearly the same per-input work." if top_i["duplicates"] else ""), ""]
    ir = state.get("incremental_rerun")
    if ir:
        L += [f"Re-run of this phase at {ir.get('started', '?')} on the code as it then was (repo at "
              f"{ir.get('git', '?')}): meanwhile other work had changed `refresh_all` to skip the models when "
              "their fingerprints (data, SQL, thresholds) are unchanged. Same warehouse, same commands:", "",
              "| run | runs | each run, s | wall s, median | of which `ingest()` |", "|---|---|---|---|---|"]
        for key, label in (("ingest_empty", "nothing new: `tlsrpt ingest <empty folder>`"),
                           ("run_empty", "nothing new: `tlsrpt run`"),
                           ("day_alone", "one new day into an empty warehouse"),
                           ("day_on_top", f"the same day on top of the {ir.get('size', 0):,} reports")):
            runs = ir.get(key, [])
            if runs:
                inner = [x["inner"] for x in runs if x.get("inner") is not None]
                L.append(f"| {label} | {len(runs)} | {', '.join(f'{x:.1f}' for x in walls(runs))} "
                         f"| {med(walls(runs)):.2f} | {f'{med(inner):.1f} s' if inner else '-'} |")
        L += ["", "The first run with nothing new rebuilt every model because the warehouse, made by the older "
              "code, had no fingerprints yet; the second rebuilt them too, for a reason not investigated (the "
              "SQL files were being edited at the time); the third skipped them. The new day still costs a "
              "full rebuild of every model on top of the warehouse (the data changed), and the snapshot copy.", ""]
    return L


def _store_size(inc: dict) -> str:
    """The size of what the models read: the lake (catalog + data files), or in figures kept before
    the lake the DuckDB file."""
    if "lake_bytes" in inc:
        return f"the lake, catalog and data files, {inc['lake_bytes'] / 1e9:,.2f} GB"
    return f"the DuckDB file {inc.get('db_bytes', 0) / 1e9:,.2f} GB"


def marts_section(state) -> list[str]:
    """The full rebuild of the SQL models, then each model alone."""
    L: list[str] = []
    mt = state.get("marts")
    if mt:
        whole = mt["whole"] or [float("nan")]
        total_models = sum(med(v) for v in mt["per"].values() if v) or float("nan")
        sp_checkpoint = bool((mt.get("split") or {}).get("checkpoint"))  # figures kept from the DuckDB file
        L += ["## Mart rebuild", "",
              f"On a copy of the {mt['size']:,}-report {'DuckDB file' if sp_checkpoint else 'data dir (its lake)'}, "
              f"in one process (peak RSS {mib(mt['process']['max_rss_kb'])}): every SQL model rebuilt in full as "
              "the pipeline does after an ingest that changed anything (`sql_models.build_all` in one transaction, "
              f"{'then `checkpoint`' if sp_checkpoint else 'committed into the lake'}): "
              f"**{med(whole):.2f} s** median ({min(whole):.2f}-{max(whole):.2f}, {len(whole)} runs). "
              "Then each model's `create or replace table ... as <its select>` alone, in build order (read "
              "from `pipeline.transform.sql_models.load_models`/`build_order`, so models added later appear here by "
              "themselves):", "",
              "| # | model | rows | median s (min-max) | share |", "|---|---|---|---|---|"]
        for i, key in enumerate(mt["order"], 1):
            t = mt["per"][key]
            if not t:
                L.append(f"| {i} | `{key}` | - | failed: {mt.get('errors', {}).get(key, '?')[:200]} | - |")
                continue
            nrows = mt["rows"][key]
            L.append(f"| {i} | `{key}` | {'-' if nrows is None else f'{nrows:,}'} "
                     f"| {med(t):.3f} ({min(t):.3f}-{max(t):.3f}) | {med(t) / total_models:.0%} |")
        if mt.get("errors", {}).get("refresh_all"):
            L += ["", f"`refresh_all` failed: `{mt['errors']['refresh_all']}`"]
        L += ["", f"Sum of the per-model medians, each model in its own transaction: {total_models:.2f} s.", ""]
        if mt.get("rerun_note"):
            L += [mt["rerun_note"], ""]
        if mt.get("refresh_unchanged") is not None:
            L += [f"`refresh_all` right after, with nothing changed: {mt['refresh_unchanged']:.2f} s.", ""]
        sp = mt.get("split") or {}
        if sp.get("build_all") and sp.get("checkpoint") and not mt.get("rerun_note"):
            where = (f"in the re-run at {mt['split_from_rerun']}, whose `refresh_all` took {mt['rerun_whole']:.2f} s"
                     if mt.get("split_from_rerun") else "same copy")
            L += [f"`refresh_all` split in two ({where}; {len(sp['build_all'])} runs): every model in one "
                  f"transaction (`build_all`, commit included) {med(sp['build_all']):.2f} s, then `checkpoint` "
                  f"{med(sp['checkpoint']):.2f} s (writing the rebuilt tables into the file).", ""]
    return L


def rebuild_section(state) -> list[str]:
    """`tlsrpt rebuild`: every table replayed from the landing zone."""
    L: list[str] = []
    rb = state.get("rebuild")
    if rb:
        r = rb["run"]
        L += [f"`tlsrpt rebuild` at {rb['size']:,} (every table replayed from the landing zone's packs, then the "
              f"{'models' if rb.get('lake') else 'marts and the snapshot'}; 1 run, on a copy of the warehouse): **{r['wall']:.1f} s** "
              f"({rb['size'] / r['wall']:,.0f} reports/s), CPU {r['cpu']:.0f} s, peak RSS tree sum "
              f"{mib(r['tree_rss_kb'])}, others' load {r['foreign']:.2f} cores.", ""]
    return L
