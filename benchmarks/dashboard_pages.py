"""Time every dashboard page in a real browser: `tlsrpt dashboard` on 127.0.0.1, headless Debian
Chromium (Playwright), 1400 px wide, default filters.

    .venv/bin/python benchmarks/dashboard_pages.py [--reports N] [--repeat K] [--out bench-out]
    .venv/bin/python benchmarks/dashboard_pages.py --data-dir data      # an existing warehouse (the demo)
    ... --data-dir DIR --json FILE    # the figures as JSON, no results page (the suite's `pages` phase)

Builds (or reuses) bench-out/dashboard-N/ (tlsrpt ingest of N generated reports, default 100,000:
its lake with the models built) unless --data-dir is given. Starts the dashboard, loads each
page once (the first load after the server start: every query goes to the lake snapshot of the
last passed build, "cold"),
then K times more (server and query cache warm: what a person sees). A load is timed from
navigation to ready: the page's script has run and nothing waits to be drawn (tests/e2e/chromium.py).
Prints first and median/max warm per page; writes benchmarks/results/dashboard_pages.md. The
target (issue 20): every page ready in under 1.5 s warm at 100k reports. Not part of the test run.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.settings import Settings  # noqa: E402
from pipeline.store.builds import snapshot_to_read  # noqa: E402
from pipeline.store.lake import open_lake  # noqa: E402

PAGES = ["", "domain", "problems", "by_result", "by_source", "policies", "posture", "reports"]
TARGET_S = 1.5


def build(out: Path, reports: int) -> Path:
    corpus = out / f"corpus-n{reports}-seed1"
    data_dir = out / f"dashboard-{reports}"
    tlsrpt = [sys.executable, "-m", "pipeline"]
    if not (corpus / "files").is_dir():
        subprocess.run([*tlsrpt, "generate", "--reports", str(reports), "--formats", "files", "--seed", "1", str(corpus)], check=True)
    if snapshot_to_read(Settings(data_dir=data_dir)) is None:
        subprocess.run([*tlsrpt, "ingest", "--data-dir", str(data_dir), str(corpus / "files")], check=True)
    return data_dir


def busiest_domain(data_dir: Path) -> tuple[int, str, int]:
    """(the snapshot the dashboard shows, its busiest policy domain, its report count)."""
    settings = Settings(data_dir=data_dir)
    snapshot = snapshot_to_read(settings)
    if snapshot is None:
        raise SystemExit(f"no warehouse in {data_dir}: run `tlsrpt ingest` first")
    con = open_lake(settings, read_only=True, snapshot=snapshot)
    try:
        (domain,) = con.execute("select policy_domain from marts.daily_domain_sessions group by 1"
                                " order by sum(total_session_count) desc limit 1").fetchone()
        (count,) = con.execute("select count(*) from main.reports").fetchone()
    finally:
        con.close()
    return snapshot, domain, count


def serve(data_dir: Path) -> tuple[subprocess.Popen, str]:
    """The dashboard as a user starts it, in its own process group (stopped by pid)."""
    from tests.services import free_port

    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "pipeline", "dashboard", "--data-dir", str(data_dir), "--port", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            urllib.request.urlopen(f"{url}/_stcore/health", timeout=1)
            return process, url
        except OSError:
            time.sleep(0.1)
    raise SystemExit("the dashboard did not start within a minute")


def load(page, url: str) -> float:
    from tests.e2e.chromium import wait_ready

    started = time.perf_counter()
    page.goto(url)
    wait_ready(page, timeout_ms=120_000)
    elapsed = time.perf_counter() - started
    if "Traceback" in page.locator('[data-testid="stMain"]').inner_text():
        raise SystemExit(f"{url} shows an exception")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--out", type=Path, default=ROOT / "bench-out")
    parser.add_argument("--data-dir", type=Path, help="time this warehouse instead of building one")
    parser.add_argument("--json", type=Path, help="write the figures here as JSON instead of the results page")
    args = parser.parse_args()
    data_dir = args.data_dir or build(args.out, args.reports)
    from tests.e2e.chromium import browser_page
    from tests.services import stop_process

    os.environ["TLSRPT_DATA_DIR"] = str(data_dir)
    # The domain page as it is opened (from a link, with its domain): a bare one first picks a domain and reruns.
    snapshot, domain, count = busiest_domain(data_dir)
    process, url = serve(data_dir)
    rows = []
    try:
        with tempfile.TemporaryDirectory() as profile, browser_page(Path(profile)) as page:
            for name in PAGES:
                address = f"{url}/{name}" + (f"?domain={quote(domain)}" if name == "domain" else "")
                first = load(page, address)
                warm = [load(page, address) for _ in range(args.repeat)]
                rows.append((name or "overview", first, statistics.median(warm), max(warm)))
                print(f"{name or 'overview':10s} first {first:.2f} s  warm median {statistics.median(warm):.2f} s"
                      f"  max {max(warm):.2f} s", flush=True)
    finally:
        stop_process(process)
    if args.json:
        args.json.write_text(json.dumps({"reports": count, "snapshot": snapshot, "repeat": args.repeat, "pages": [
            {"page": name, "first": first, "warm_median": median, "warm_max": worst}
            for name, first, median, worst in rows]}))
        return
    label = f"{count:,} reports" + ("" if args.data_dir is None else f" (the warehouse in {data_dir.name}/)")
    result = ROOT / "benchmarks" / "results" / "dashboard_pages.md"
    lines = [f"# Dashboard pages in a browser, {label}", "",
             f"`.venv/bin/python benchmarks/dashboard_pages.py {'--data-dir ' + data_dir.name if args.data_dir else f'--reports {args.reports}'}"
             f" --repeat {args.repeat}` (lake snapshot {snapshot}): `tlsrpt dashboard`, headless Chromium at 1400 px, default filters;"
             " navigation to ready (script run, nothing left to draw). \"first\" is the first load after the server"
             f" started (queries go to the lake); \"warm\" the {args.repeat} loads after it. Target: under {TARGET_S} s warm at 100k."
             f" Machine: {os.cpu_count()} cores, shared with whatever else ran.", "",
             "| page | first s | warm median s | warm max s |", "|---|---|---|---|"]
    lines += [f"| {name} | {first:.2f} | {median:.2f} | {worst:.2f} |" for name, first, median, worst in rows]
    result.write_text("\n".join(lines) + "\n")
    print(f"wrote {result}")


if __name__ == "__main__":
    main()
