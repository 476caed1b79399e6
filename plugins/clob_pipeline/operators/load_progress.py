"""Counting and logging one wallet's load, so on-call can see how far a long or killed load got."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

PROGRESS_EVERY_PAGES = 10
PROGRESS_EVERY_S = 30.0
PROGRESS_MIN_GAP_S = 5.0  # a fast load logs at most one progress line per this many seconds


def utc(ms: int | None) -> str:
    return "none" if not ms else time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ms / 1000))


class LoadProgress:
    """Pages, fills and requests of one wallet's load (plus what a resumed checkpoint had counted).

    ``page()`` logs a progress line every ``PROGRESS_EVERY_PAGES`` pages or ``PROGRESS_EVERY_S``
    seconds, whichever comes first, but not more often than every ``PROGRESS_MIN_GAP_S``: a killed
    try's log then shows where it was, and a long backfill does not flood the log.
    """

    def __init__(self, log: Any, wallet: str, checkpoint: Mapping[str, Any] | None) -> None:
        self.log, self.wallet = log, wallet
        self.base_pages = checkpoint["pages"] if checkpoint else 0
        self.base_rows = checkpoint["rows_seen"] if checkpoint else 0
        self.base_inserted = checkpoint["rows_inserted"] if checkpoint else 0
        self.pages = self.rows = 0
        self.reached_s: int | None = None
        self.started = self._logged_at = time.monotonic()
        self._logged_pages = 0

    @property
    def total_pages(self) -> int:
        return self.base_pages + self.pages

    @property
    def total_rows(self) -> int:
        return self.base_rows + self.rows

    @property
    def seconds(self) -> float:
        return round(time.monotonic() - self.started, 2)

    def page(self, rows: int, reached_s: int) -> None:
        """One response handled: ``rows`` fills handed over, everything newer than ``reached_s`` read."""
        self.pages += 1
        self.rows += rows
        self.reached_s = reached_s
        now = time.monotonic()
        since = now - self._logged_at
        due = self.pages - self._logged_pages >= PROGRESS_EVERY_PAGES or since >= PROGRESS_EVERY_S
        if due and since >= PROGRESS_MIN_GAP_S:
            self._logged_at, self._logged_pages = now, self.pages
            self.log.info("wallet %s progress: %s", self.wallet, self.describe())

    def request_stats(self) -> str:
        """Pages so far and their rate: one page is one request (the hook's own retries aside)."""
        elapsed = max(time.monotonic() - self.started, 1e-9)
        return f"pages={self.pages} ({self.pages / elapsed:.1f} requests/s)"

    def describe(self, writer: Any = None) -> str:
        reached = utc(self.reached_s * 1000) if self.reached_s and self.reached_s > 0 else "start"
        stored = f", inserted={writer.rows_inserted} already_stored={writer.rows_skipped}" if writer is not None else ""
        return f"{self.request_stats()} fills={self.rows}{stored} read back to {reached} elapsed={self.seconds:.1f}s"
