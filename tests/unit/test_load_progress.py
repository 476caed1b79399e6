"""When a load logs its per-wallet progress line (operators/load_progress.py), on a fake clock."""

from __future__ import annotations

import pytest

from clob_pipeline.operators import load_progress
from clob_pipeline.operators.load_progress import LoadProgress


class Log:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def info(self, fmt: str, *args) -> None:
        self.lines.append(fmt % args)


@pytest.fixture()
def clock(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(load_progress.time, "monotonic", lambda: now[0])
    return now


def pages_at(clock, progress: LoadProgress, seconds_per_page: float, pages: int) -> list[int]:
    """Feed ``pages`` pages; return the page numbers after which a line was logged."""
    logged = []
    for _ in range(pages):
        clock[0] += seconds_per_page
        before = len(progress.log.lines)
        progress.page(rows=100, reached_s=1_790_000_000 - progress.pages * 60)
        if len(progress.log.lines) > before:
            logged.append(progress.pages)
    return logged


def test_every_ten_pages_when_pages_take_at_least_half_a_second(clock):
    progress = LoadProgress(Log(), "0xw", None)
    assert pages_at(clock, progress, 0.6, 35) == [10, 20, 30]


def test_every_thirty_seconds_when_pages_are_slow(clock):
    progress = LoadProgress(Log(), "0xw", None)
    assert pages_at(clock, progress, 7.0, 12) == [5, 10]  # 35 s and 70 s: the 30 s rule comes first


def test_a_fast_load_logs_at_most_one_line_per_five_seconds(clock):
    progress = LoadProgress(Log(), "0xw", None)
    logged = pages_at(clock, progress, 1 / 64, 3000)  # 64 pages a second (exact in binary), 47 s in all
    assert logged == [320 * k for k in range(1, 10)]  # due every 10 pages, held back to one line per 5 s


def test_the_line_says_pages_rate_fills_oldest_time_and_elapsed(clock):
    log = Log()
    progress = LoadProgress(log, "0xw", {"pages": 7, "rows_seen": 700, "rows_inserted": 650})
    pages_at(clock, progress, 1.0, 10)
    assert log.lines == [
        "wallet 0xw progress: pages=10 (1.0 requests/s) fills=1000 read back to 2026-09-21T14:04:20Z elapsed=10.0s"
    ]
    assert progress.total_pages == 17 and progress.total_rows == 1700  # a resumed load counts its checkpoint too
