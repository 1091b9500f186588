"""In real Chromium: report fields carrying markdown images and links are shown as text, and the
browser never contacts the address they name (issue 15, item 7)."""

from __future__ import annotations

import sys

import pytest

from tests.app.test_hostile_text import HOSTILE_DAY, seed_hostile
from tests.e2e.test_browser import PAGES, browser_page, pytestmark  # noqa: F401
from tests.e2e.test_browser import settle as _settle
from tests.fixtures.hostile import MARKDOWN_IMAGE, MARKDOWN_LINK
from tests.services import free_port, loopback_service


@pytest.fixture(scope="module")
def hostile_dashboard(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("e2e-hostile") / "data"
    seed_hostile(data_dir)
    port = free_port()
    command = [sys.executable, "-m", "pipeline", "dashboard", "--data-dir", str(data_dir), "--port", str(port)]
    with loopback_service(command, f"http://127.0.0.1:{port}/_stcore/health"):
        yield f"http://127.0.0.1:{port}"


@pytest.mark.timeout(240)
def test_markdown_in_report_fields_is_text_and_fetches_nothing(hostile_dashboard: str, browser_page):
    page = browser_page
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    shown = ""
    for path, heading in PAGES.items():
        page.goto(f"{hostile_dashboard}/{path}?from={HOSTILE_DAY}&to={HOSTILE_DAY}")
        page.get_by_role("heading", name=heading).first.wait_for(timeout=30_000)
        _settle(page)
        for expander in page.locator('[data-testid="stExpander"] summary').all():
            expander.click()  # open every expander: their bodies hold diagnoses and fixes
        _settle(page)
        # No link or image that leads to the attacker: the app's own links may carry the text in a
        # percent-encoded query (./reports?mx=...), which stays on this site.
        hrefs = page.eval_on_selector_all("a[href], img[src]", "els => els.map(e => e.href || e.src)")
        assert not [h for h in hrefs if "attacker.invalid" in h.split("?")[0]], (path, hrefs)
        shown += page.locator("body").inner_text().replace("\u2060", "")
    assert requested and not [url for url in requested if "attacker.invalid" in url]
    assert MARKDOWN_IMAGE in shown and MARKDOWN_LINK in shown  # shown as the sender wrote them
