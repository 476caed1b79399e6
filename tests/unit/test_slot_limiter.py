"""The shared rate limiter's rules, on fake clocks (real processes: tests/integration/test_slot_limiter_processes.py)."""

from __future__ import annotations

import pytest

from clob_pipeline.hooks.throttle import FileSlotStore, MemorySlotStore, SlotLimiter


class FakeTime:
    """A clock that only moves when someone sleeps; ``on_sleep`` lets a test act "meanwhile"."""

    def __init__(self) -> None:
        self.now = 1_000.0
        self.slept: list[float] = []
        self.on_sleep = None

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
        if self.on_sleep:
            self.on_sleep()


@pytest.fixture(params=["memory", "file"])
def store_factory(request, tmp_path):
    """Both stores behave the same; the file one is shared by every limiter given the same path."""
    if request.param == "memory":
        shared = MemorySlotStore()
        return lambda: shared
    return lambda: FileSlotStore(tmp_path / "budget.json")


def test_a_full_window_frees_one_period_after_the_response(store_factory):
    t = FakeTime()
    limiter = SlotLimiter(2, 10.0, store_factory(), clock=t.clock, sleep=t.sleep)
    first, second = limiter.acquire(), limiter.acquire()
    assert first.waited_s == second.waited_s == 0.0
    t.now += 1.0
    limiter.release(first)  # response at +1 s
    t.now += 1.0
    limiter.release(second)  # response at +2 s
    third = limiter.acquire()
    assert t.now == pytest.approx(1_011.0)  # first's response + 10 s, not its send + 10 s
    assert third.waited_s == pytest.approx(9.0)


def test_a_slot_still_in_flight_is_held_until_it_is_released(store_factory):
    t = FakeTime()
    limiter = SlotLimiter(1, 10.0, store_factory(), hold_s=60.0, clock=t.clock, sleep=t.sleep)
    pending = limiter.acquire()

    def respond_at_12s():
        if t.now >= 1_012.0 and not released:
            released.append(True)
            limiter.release(pending)

    released: list[bool] = []
    t.on_sleep = respond_at_12s
    limiter.acquire()
    assert released and t.now == pytest.approx(1_022.0, abs=0.06)  # response (~12 s) + 10 s


def test_a_slot_of_a_dead_process_expires_after_period_plus_hold(store_factory):
    t = FakeTime()
    limiter = SlotLimiter(1, 10.0, store_factory(), hold_s=5.0, clock=t.clock, sleep=t.sleep)
    limiter.acquire()  # never released: its process died mid-request
    limiter.acquire()
    assert t.now == pytest.approx(1_015.0, abs=0.06)


def test_a_429_pause_holds_every_limiter_sharing_the_budget(store_factory):
    t = FakeTime()
    a = SlotLimiter(100, 10.0, store_factory(), clock=t.clock, sleep=t.sleep)
    b = SlotLimiter(100, 10.0, store_factory(), clock=t.clock, sleep=t.sleep)
    a.pause(3.0)
    a.pause(1.0)  # a shorter pause never shortens a longer one
    assert b.acquire().waited_s == pytest.approx(3.0)


def test_a_pause_lasts_its_retry_after_even_when_the_window_is_full(store_factory):
    t = FakeTime()
    full = SlotLimiter(1, 10.0, store_factory(), clock=t.clock, sleep=t.sleep)
    full.release(full.acquire())  # its one slot is busy for 10 s
    full.pause(2.0)
    roomy = SlotLimiter(100, 10.0, store_factory(), clock=t.clock, sleep=t.sleep)
    assert roomy.acquire().waited_s == pytest.approx(2.0)


def test_limiters_on_one_store_share_the_budget(store_factory):
    t = FakeTime()
    a = SlotLimiter(2, 10.0, store_factory(), clock=t.clock, sleep=t.sleep)
    b = SlotLimiter(2, 10.0, store_factory(), clock=t.clock, sleep=t.sleep)
    a.release(a.acquire())
    a.release(a.acquire())
    assert b.acquire().waited_s == pytest.approx(10.0)


def test_slots_from_a_clock_that_went_back_do_not_block(store_factory):
    t = FakeTime()
    limiter = SlotLimiter(1, 10.0, store_factory(), clock=t.clock, sleep=t.sleep)
    limiter.release(limiter.acquire())
    t.now -= 3_600.0  # the wall clock was set back an hour
    assert limiter.acquire().waited_s == 0.0


def test_a_torn_state_file_is_read_as_empty(tmp_path):
    (tmp_path / "budget.json").write_text('{"slots": [["1-0", 10')
    limiter = SlotLimiter(1, 10.0, FileSlotStore(tmp_path / "budget.json"))
    assert limiter.acquire().waited_s == 0.0


def test_bad_limits_are_refused():
    with pytest.raises(ValueError, match="positive"):
        SlotLimiter(0, 10.0)
