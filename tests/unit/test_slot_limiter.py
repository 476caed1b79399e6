"""The shared rate limiter: fake clocks for the rules, real processes for the shared budget."""

from __future__ import annotations

import multiprocessing
import random
import time
from pathlib import Path

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


# --- several real processes ----------------------------------------------------------------------
LIMIT, PERIOD = 6, 0.4


def _client(state: str, log: str, requests: int, seed: int) -> None:
    """One process sending ``requests`` fake requests (0-30 ms each) through its limiter."""
    store = FileSlotStore(Path(state)) if state.endswith(".json") else MemorySlotStore()
    limiter = SlotLimiter(LIMIT, PERIOD, store)
    rng = random.Random(seed)
    lines = []
    for _ in range(requests):
        ticket = limiter.acquire()
        sent = time.time()
        time.sleep(rng.uniform(0, 0.03))
        done = time.time()
        limiter.release(ticket)
        lines.append(f"{sent!r} {done!r}\n")
    Path(log).write_text("".join(lines))


def _run_clients(tmp_path: Path, processes: int, shared: bool) -> list[float]:
    """Send times of every request of every process, sorted."""
    ctx = multiprocessing.get_context("spawn")
    state = str(tmp_path / "budget.json") if shared else "memory"
    procs = [ctx.Process(target=_client, args=(state, str(tmp_path / f"log{i}"), 8, i)) for i in range(processes)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(60)
        assert proc.exitcode == 0
    return sorted(float(line.split()[0]) for i in range(processes) for line in (tmp_path / f"log{i}").read_text().splitlines())


def _most_in_one_window(sends: list[float]) -> int:
    """The most sends inside any half-open window of PERIOD seconds."""
    best, lo = 0, 0
    for hi, t in enumerate(sends):
        while t - sends[lo] >= PERIOD:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def test_processes_sharing_the_state_file_stay_under_one_budget(tmp_path):
    sends = _run_clients(tmp_path, processes=4, shared=True)
    assert len(sends) == 32
    assert _most_in_one_window(sends) <= LIMIT


def test_the_multi_process_check_catches_per_process_limiters(tmp_path):
    """The control: the same clients, each with a budget of its own, together overrun the limit."""
    sends = _run_clients(tmp_path, processes=4, shared=False)
    assert _most_in_one_window(sends) > LIMIT
