"""End to end in real headless Chromium (Debian's, driven by Playwright): `tlsrpt dashboard`
on 127.0.0.1, every page, a filter, a raw report; a screenshot of each page is kept in
test-output/screenshots/ (look at them)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from pipeline.generate import write_corpus
from tests.conftest import ingest_into
from tests.services import free_port, loopback_service

ROOT = Path(__file__).parents[2]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SHOTS = ROOT / "test-output" / "screenshots"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-sync", "--disable-component-update", "--hide-scrollbars"]
PAGES = {"": "Is mail to my domains", "by_result": "By result", "by_source": "By sending source",
         "problems": "Problems", "policies": "Policies senders applied", "reports": "Reports"}

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium is not installed (scripts/test.sh installs it)")


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory):
    root = tmp_path_factory.mktemp("e2e")
    # Twenty days ending on the fixtures' day, so the default 30-day window shows everything.
    write_corpus(root / "corpus", domains=2, days=20, seed=9, start=date(2026, 2, 10), formats=("files",))
    ingest_into(root / "data", [root / "corpus" / "files"])
    subprocess.run([sys.executable, "-m", "pipeline", "ingest", "--data-dir", str(root / "data"),
                    str(ROOT / "tests" / "fixtures" / "reports")], check=True, capture_output=True)
    port = free_port()
    command = [sys.executable, "-m", "pipeline", "dashboard", "--data-dir", str(root / "data"), "--port", str(port)]
    with loopback_service(command, f"http://127.0.0.1:{port}/_stcore/health"):
        yield f"http://127.0.0.1:{port}"


@pytest.fixture(scope="module")
def browser_page(tmp_path_factory):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")), executable_path=CHROMIUM, headless=True,
            args=FLAGS, viewport={"width": 1400, "height": 1000},
        )
        yield context.new_page()
        context.close()


def _settle(page) -> None:
    page.wait_for_selector('[data-testid="stMainBlockContainer"]', timeout=30_000)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
        " && document.querySelectorAll('[data-testid=\"stSkeleton\"]').length === 0", timeout=30_000)
    page.wait_for_timeout(700)


@pytest.mark.timeout(240)
def test_every_page_filter_and_raw_report(dashboard: str, browser_page):
    page = browser_page
    SHOTS.mkdir(parents=True, exist_ok=True)
    for path, heading in PAGES.items():
        page.goto(f"{dashboard}/{path}")
        page.get_by_role("heading", name=heading).first.wait_for(timeout=30_000)
        _settle(page)
        assert "Traceback" not in page.content()
        page.screenshot(path=str(SHOTS / f"{path or 'overview'}.png"), full_page=True)
    # The overview shows numbers, not an empty state.
    page.goto(dashboard)
    page.get_by_text("TLS sessions").first.wait_for(timeout=30_000)
    _settle(page)
    values = page.locator('[data-testid="stMetricValue"]').all_inner_texts()
    assert values and values[0] not in ("0", "n/a")
    # A filter, as a person applies it: pick one domain in the sidebar; the URL keeps it.
    page.goto(f"{dashboard}/by_source")
    page.get_by_role("heading", name="By sending source").wait_for(timeout=30_000)
    _settle(page)
    page.locator('[data-testid="stSidebar"] [data-testid="stMultiSelect"]').click()
    page.get_by_role("option", name="example-0001.test").click()
    page.keyboard.press("Escape")
    page.wait_for_function("() => location.search.includes('domain=example-0001.test')", timeout=30_000)
    _settle(page)
    chips = page.locator('[data-testid="stSidebar"] [data-testid="stMultiSelect"]').inner_text()
    assert "example-0001.test" in chips and "example-0002.test" not in chips
    page.screenshot(path=str(SHOTS / "by_source_filtered.png"), full_page=True)
    # Open a raw report on the Reports page: choose the first report in the select box.
    page.goto(f"{dashboard}/reports?q=fixture.test&from=2026-03-01&to=2026-03-01")
    page.get_by_role("heading", name="Raw report").wait_for(timeout=30_000)
    _settle(page)
    page.locator('[data-testid="stMain"] [data-testid="stSelectbox"]').first.click()  # "Report"
    page.get_by_role("option").nth(1).click()
    page.get_by_text('"organization-name"').first.wait_for(timeout=30_000)
    _settle(page)
    page.screenshot(path=str(SHOTS / "raw_report.png"), full_page=True)
