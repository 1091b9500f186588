"""Debian's headless Chromium driven by Playwright (STACK.md 7), shared by the browser test and
benchmarks/dashboard_pages.py: the launch flags, and when a Streamlit page is ready."""

from __future__ import annotations

import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-sync", "--disable-component-update", "--hide-scrollbars"]
WIDTH = 1400


@contextmanager
def browser_page(profile: Path) -> Iterator:
    """One page of a fresh headless Chromium profile, 1400 px wide. Never `playwright install`."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, headless=True, args=FLAGS, viewport={"width": WIDTH, "height": 1000})
        try:
            yield context.new_page()
        finally:
            context.close()


def wait_ready(page, timeout_ms: int = 60_000) -> None:
    """The page's script has run: its heading is drawn, no run indicator, no placeholder left.
    (Streamlit renders over a websocket: the HTML alone is an empty shell.)"""
    page.wait_for_selector('[data-testid="stMainBlockContainer"] h1', timeout=timeout_ms)
    # The app root states the script run (what Streamlit's own browser tests wait for); the status
    # widget alone appears only after a delay, so a short run could pass unnoticed.
    page.wait_for_function(
        "() => document.querySelector('[data-testid=\"stApp\"]')?.getAttribute('data-test-script-state') === 'notRunning'"
        " && !document.querySelector('[data-testid=\"stStatusWidget\"]')"
        " && document.querySelectorAll('[data-testid=\"stSkeleton\"]').length === 0", timeout=timeout_ms)
