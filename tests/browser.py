"""Headless Chromium for tests that look at a page as a person would: Debian's ``chromium``
(``scripts/ensure_chromium.sh``, run by ``make test``), driven by Playwright (no browser download:
``executable_path`` is the system one), with a fresh profile and no background networking.
``CLOB_PIPELINE_SKIP_BROWSER_TESTS=1`` skips these tests; a missing Chromium otherwise fails them."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Screenshots a person would look at are kept here (CI artefacts); each test names its own file.
ARTEFACTS = os.environ.get("CLOB_PIPELINE_TEST_ARTEFACTS") or os.path.join(os.path.dirname(__file__), "..", ".artefacts")

skip_without_browser = pytest.mark.skipif(
    os.environ.get("CLOB_PIPELINE_SKIP_BROWSER_TESTS") == "1",
    reason="CLOB_PIPELINE_SKIP_BROWSER_TESTS=1 (explicitly disabled)",
)


def chromium_path() -> str:
    path = shutil.which("chromium")
    assert path, (
        "Debian's chromium is not installed: run scripts/ensure_chromium.sh (make test does), "
        "or set CLOB_PIPELINE_SKIP_BROWSER_TESTS=1 to skip the browser tests on purpose"
    )
    return path


@contextmanager
def chromium_page(tmp_dir: str, width: int = 1280, height: int = 800) -> Iterator[Any]:
    """A page of a new headless Chromium with a fresh ``--user-data-dir`` under ``tmp_dir``; the
    viewport is the "first screen" a person sees."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            user_data_dir=os.path.join(tmp_dir, "chromium-profile"),
            executable_path=chromium_path(),
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport={"width": width, "height": height},
        )
        try:
            yield context.pages[0] if context.pages else context.new_page()
        finally:
            context.close()


def artefact(name: str) -> str:
    os.makedirs(ARTEFACTS, exist_ok=True)
    return os.path.abspath(os.path.join(ARTEFACTS, name))


def airflow_ui_screenshot(tmp_dir: str, api_url: str, token: str, path: str, shows: str, name: str) -> str:
    """Open ``path`` of the Airflow UI logged in (the SimpleAuthManager's ``_token`` cookie), wait until
    the page shows the text ``shows`` and its Approve and Reject buttons, keep two screenshots (the
    page as opened: artefact ``name``; scrolled to the buttons: ``name`` with ``-buttons``); returns
    the page's text."""
    with chromium_page(tmp_dir, 1400, 1000) as page:
        page.context.add_cookies([{"name": "_token", "value": token, "url": api_url}])
        page.goto(api_url + path)
        page.get_by_text(shows).first.wait_for(timeout=60_000)
        page.wait_for_load_state("networkidle")
        page.screenshot(path=artefact(name))
        approve, reject = (page.get_by_role("button", name=label, exact=True) for label in ("Approve", "Reject"))
        approve.scroll_into_view_if_needed()
        assert approve.is_visible() and reject.is_visible() and approve.is_enabled()
        page.screenshot(path=artefact(name.replace(".png", "-buttons.png")))
        return page.inner_text("body")
