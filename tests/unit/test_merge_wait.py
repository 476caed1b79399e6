"""The bounded wait for an embedded engine's merges before its hook closes."""

from __future__ import annotations

from clob_pipeline.hooks.merge_wait import MergeWait, wait_for_merges


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_no_running_merge_means_no_wait():
    clock = FakeClock()
    assert wait_for_merges(lambda: 0, 30, clock=clock, sleep=clock.sleep) == MergeWait(0, 0.0, 0)
    assert clock.sleeps == []


def test_waits_until_the_merges_are_done():
    clock = FakeClock()
    counts = iter([2, 2, 1, 0])
    wait = wait_for_merges(lambda: next(counts), 30, poll_s=0.5, clock=clock, sleep=clock.sleep)
    assert wait == MergeWait(2, 1.5, 0)


def test_gives_up_at_the_timeout_and_reports_what_still_runs():
    clock = FakeClock()
    wait = wait_for_merges(lambda: 3, 2, poll_s=0.5, clock=clock, sleep=clock.sleep)
    assert wait.running_at_start == 3 and wait.still_running == 3
    assert 2 <= wait.waited_s <= 2.5
