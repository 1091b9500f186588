"""The optional `pages` phase (`--only pages`; not in the default phases, as it needs Debian's
Chromium and Playwright): every dashboard page loaded in a real browser on the largest warehouse,
by benchmarks/dashboard_pages.py in its own process."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from benchmarks.suite import REPO, log
from benchmarks.suite.measure import measure

if TYPE_CHECKING:
    from benchmarks.suite.runner import Suite


def phase_pages(suite: Suite) -> None:
    n = suite.largest
    wh = suite.state["sizes"][str(n)]["ingest"]["warehouse"]
    figures = suite.work / f"pages-{n}.json"
    figures.unlink(missing_ok=True)
    suite.quiet()
    r, _ = measure([str(suite.py), str(REPO / "benchmarks" / "dashboard_pages.py"), "--data-dir", wh,
                    "--repeat", str(suite.args.repeat), "--json", str(figures)],
                   env=suite.env, cwd=REPO, check=False, sample_memory=False)
    if r.error or not figures.exists():
        log(f"pages at {n:,}: {r.error or 'no figures written'}")
        suite.state.setdefault("notes", []).append(f"pages at {n:,}: {r.error or 'no figures written'}")
        return
    res = json.loads(figures.read_text())
    res.update({"size": n, "foreign": r.foreign})
    suite.state["pages"] = res
    worst = max(p["warm_median"] for p in res["pages"])
    log(f"pages at {n:,}: {len(res['pages'])} pages, slowest warm median {worst:.2f} s")
    suite.state["phases"]["pages"] = True
    suite.save()
