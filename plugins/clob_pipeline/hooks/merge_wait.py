"""Waiting for an embedded engine's background merges before closing it (pure; unit-tested).

Why: with chDB the engine lives in the task's process and shuts down when the task closes its
hook. ClickHouse cancels running merges at shutdown, and the next task that opens the folder
starts them again while it does its own work. After a large load that is wasted merging and,
measured with ``make bench``, the highest memory peak of a backfill: the summary task's fresh
engine restarting the loader's merges (+30 to +50 MB). The merges were going to run anyway, so
waiting for them at the end of the loading task costs little.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import NamedTuple


class MergeWait(NamedTuple):
    """What a wait saw: merges running at the start, seconds waited, merges still running."""

    running_at_start: int
    waited_s: float
    still_running: int


def wait_for_merges(
    count_running: Callable[[], int],
    timeout_s: float,
    poll_s: float = 0.05,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> MergeWait:
    """Poll ``count_running`` until it returns 0 or ``timeout_s`` has passed."""
    started = clock()
    running = first = count_running()
    while running and clock() - started < timeout_s:
        sleep(poll_s)
        running = count_running()
    return MergeWait(first, clock() - started, running)
