"""The dashboard part of the page: every query of app/data.py at each size, and why the slow ones
are slow."""

from __future__ import annotations

from benchmarks.suite.report.figures import human, med, ms, p95


def dashboard_section(state) -> list[str]:
    """Median and p95 per query and size; the queries over 200 ms explained."""
    L: list[str] = []
    dash = state.get("dashboard")
    if dash:
        ns = sorted(int(k) for k in dash)
        first = dash[str(ns[-1])]
        on_lake = "lake_bytes" in first  # figures kept from before the lake read a copied DuckDB file
        L += ["## Dashboard queries", "",
              "Every query function of `app/data.py` (found by reflection: those taking the snapshot, so new "
              "ones appear here by themselves), called directly "
              + ("against the lake pinned to the last passed build as the app does (`pipeline/read.py`: one kept "
                 "read-only connection per pinned snapshot, a cursor per call" if on_lake else
                 "against the published snapshot as the app does (a read-only connection per call")
              + ", the Streamlit cache bypassed), with the dashboard's default "
              f"filters: all domains, all reporters, the last 30 days of data. {state.get('dashboard_repeat')} "
              "timed calls each after one warm-up call; median and p95 in ms.", "",
              "| query | " + " | ".join(f"{human(n)} rows | {human(n)} median | {human(n)} p95" for n in ns)
              + " |", "|---|" + "---|---|---|" * len(ns)]
        for q in first["queries"]:
            cells = []
            for n in ns:
                v = dash[str(n)]["queries"].get(q)
                if v:
                    mark = " (over 200)" if med(v["times"]) > 0.2 else ""
                    cells.append(f"{v['rows'] if v['rows'] is not None else '-'} | {ms(med(v['times']))}{mark} "
                                 f"| {ms(p95(v['times']))}")
                else:
                    cells.append("- | - | -")
            args = first["queries"][q].get("args")
            label = f"`{q}`" + (f" ({args})" if args and not q.endswith(")") else "")
            L.append(f"| {label} | " + " | ".join(cells) + " |")
        slow = [(q, v) for q, v in first["queries"].items() if med(v["times"]) > 0.2]
        if slow:
            doms = state.get("day_meta", {}).get("domains")
            L += ["", f"Over 200 ms at {human(ns[-1])}: "
                  + "; ".join(f"`{q}` {ms(med(v['times']))} ms returning {v['rows']:,} rows" for q, v in slow)
                  + ". These are the queries whose result grows with the number of policy domains (per domain per "
                  "day, per source, per policy, per problem) and that hand the whole result to the page: "
                  + (f"`tlsrpt generate --reports N` reaches N reports by adding domains ({doms:,} at "
                     f"{human(ns[-1])}, over 30 days), " if doms else "")
                  + "so the cost is mostly building and transferring large results (a read-only connection and "
                  "the DuckDB scan are the ~20-30 ms floor seen by the small queries). Aggregating to what each "
                  "chart shows in SQL (a top-N of domains, totals per day), paging the tables, or a mart at the "
                  "grain of the chart would bring them under 200 ms; an install with a few domains and 1M "
                  "reports would return far fewer rows."]
        skipped = first.get("skipped")
        L += [""] + ([f"Not timed (arguments the suite does not know): {', '.join(skipped)}.", ""] if skipped else [])
        size_key = "lake_bytes" if on_lake else "snapshot_bytes"
        L += [("Lake sizes (catalog and data files, every snapshot kept): " if on_lake else "Snapshot sizes: ")
              + ", ".join(f"{human(n)} {dash[str(n)][size_key] / 1e6:,.0f} MB" for n in ns)
              + ". Page load times in a real browser: `benchmarks/dashboard_pages.py`.", ""]
    return L


def pages_section(state) -> list[str]:
    """The optional `pages` phase: each dashboard page in a real browser, first load and warm."""
    pages = state.get("pages")
    if not pages:
        return []
    L = ["### Dashboard pages in a browser", "",
         f"`benchmarks/dashboard_pages.py` on the {pages['size']:,}-report warehouse (lake snapshot "
         f"{pages['snapshot']}): `tlsrpt dashboard`, headless Chromium at 1400 px, default filters; navigation to "
         "ready (script run, nothing left to draw). \"first\" is the first load after the server started, \"warm\" "
         f"the {pages['repeat']} loads after it; others' load {pages['foreign']:.2f} cores.", "",
         "| page | first s | warm median s | warm max s |", "|---|---|---|---|"]
    L += [f"| {p['page']} | {p['first']:.2f} | {p['warm_median']:.2f} | {p['warm_max']:.2f} |" for p in pages["pages"]]
    return L + [""]
