"""End to end in real headless Chromium (Debian's, driven by Playwright): `tlsrpt dashboard` on
127.0.0.1 over the labelled scenarios (an expired certificate, open), every page, the domain
page, a filter kept across a page change, a report opened from a problem's evidence. A
full-height screenshot of each page at 1400 px is kept in test-output/screenshots/ (look at them)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.generate import write_corpus
from tests.e2e import chromium
from tests.services import free_port, loopback_service

ROOT = Path(__file__).parents[2]
SHOTS = ROOT / "test-output" / "screenshots"
PAGES = {"": "Is mail to my domains", "domain": "Domain", "problems": "Problems", "by_result": "By result",
         "by_source": "By sending source", "policies": "Policies senders applied", "reports": "Reports"}
WIDTH = chromium.WIDTH

pytestmark = pytest.mark.skipif(not Path(chromium.CHROMIUM).exists(),
                                reason="Debian chromium is not installed (scripts/test.sh installs it)")


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory):
    root = tmp_path_factory.mktemp("e2e")
    # The labelled background ends 2026-03-31: against today's clock the data is stale.
    write_corpus(root / "corpus", seed=1, scenarios=("cert-expiry",), formats=("files",))
    subprocess.run([sys.executable, "-m", "pipeline", "ingest", "--data-dir", str(root / "data"), str(root / "corpus" / "files")],
                   check=True, capture_output=True)
    port = free_port()
    command = [sys.executable, "-m", "pipeline", "dashboard", "--data-dir", str(root / "data"), "--port", str(port)]
    with loopback_service(command, f"http://127.0.0.1:{port}/_stcore/health"):
        yield f"http://127.0.0.1:{port}"


@pytest.fixture(scope="module")
def browser_page(tmp_path_factory):
    with chromium.browser_page(tmp_path_factory.mktemp("chromium-profile")) as page:
        yield page


def settle(page) -> None:
    chromium.wait_ready(page)
    page.wait_for_timeout(700)  # charts finish drawing after the script run


def screenshot(page, name: str) -> None:
    """The whole page: the main area scrolls inside the window, so the window takes its height."""
    height = page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
    page.set_viewport_size({"width": WIDTH, "height": max(1000, height)})
    page.wait_for_timeout(700)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    page.set_viewport_size({"width": WIDTH, "height": 1000})


def main_text(page) -> str:
    return page.locator('[data-testid="stMain"]').inner_text()


@pytest.mark.timeout(300)
def test_the_analysts_view_in_a_browser(dashboard: str, browser_page):
    page = browser_page
    for path, heading in PAGES.items():
        page.goto(f"{dashboard}/{path}")
        page.get_by_role("heading", name=heading).first.wait_for(timeout=60_000)
        settle(page)
        text = main_text(page)
        assert "Traceback" not in text
        assert "Stale data: the newest report covers 2026-03-31" in text  # the loudest thing on every page
        assert page.get_by_text("Deploy", exact=True).count() == 0  # viewer toolbar
        assert page.title().endswith("· TLS-RPT warehouse")
        assert page.locator("link[rel*=icon]").first.get_attribute("href").startswith(("/", "http://127.0.0.1", "./"))
        screenshot(page, path or "overview")

    # Formatted numbers on the overview: thousands separators and percentages, never a fraction.
    page.goto(dashboard)
    settle(page)
    values = dict(zip(page.locator('[data-testid="stMetricLabel"]').all_inner_texts(),
                      page.locator('[data-testid="stMetricValue"]').all_inner_texts()))
    assert re.fullmatch(r"\d{1,3}(,\d{3})+", values["TLS sessions"]), values
    assert re.fullmatch(r"\d{1,3}\.\d\d%", values["Success rate"]), values
    assert values["Open problems"] == "1"
    assert "Expired MX certificate on mx2.example-0006.test" in main_text(page)  # what needs attention most

    # The domain page, opened by its address.
    page.goto(f"{dashboard}/domain?domain=example-0006.test")
    settle(page)
    text = main_text(page)
    assert "MX hosts" in text and "Reporters" in text and "What is happening." in text
    assert page.title() == "example-0006.test · TLS-RPT warehouse"
    screenshot(page, "domain_example-0006")

    # A filter kept across a page change: pick a domain in the sidebar, then follow the navigation.
    page.goto(f"{dashboard}/by_source")
    settle(page)
    page.locator('[data-testid="stSidebar"] [data-testid="stMultiSelect"]').click()
    page.get_by_role("option", name="example-0006.test").click()
    page.keyboard.press("Escape")
    page.wait_for_function("() => location.search.includes('domain=example-0006.test')", timeout=30_000)
    settle(page)
    page.locator('[data-testid="stSidebarNav"]').get_by_text("Problems", exact=True).click()
    page.wait_for_function("() => location.pathname.endsWith('/problems') && location.search.includes('domain=example-0006.test')",
                           timeout=30_000)
    settle(page)
    chips = page.locator('[data-testid="stSidebar"] [data-testid="stMultiSelect"]').inner_text()
    assert "example-0006.test" in chips and "example-0001.test" not in chips

    # The open problem reads like a ticket without a click; its evidence opens the reports behind it.
    text = main_text(page)
    assert "What is happening." in text and "What to do." in text and "Renew the certificate" in text
    screenshot(page, "problems_example-0006")
    page.get_by_text(re.compile(r"The reports behind it \(\d+\)")).first.click()
    page.wait_for_function("() => location.pathname.endsWith('/reports') && location.search.includes('key=')", timeout=30_000)
    settle(page)
    page.get_by_text('"organization-name"').first.wait_for(timeout=30_000)
    assert '\n  "organization-name"' in page.locator('[data-testid="stCode"]').first.inner_text()  # pretty-printed
    screenshot(page, "raw_report_from_problem")
