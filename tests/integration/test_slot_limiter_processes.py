"""The shared rate limiter across real processes: one state file keeps them all under one budget."""

from __future__ import annotations

import multiprocessing
import random
import time
from pathlib import Path

from clob_pipeline.hooks.throttle import FileSlotStore, MemorySlotStore, SlotLimiter

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
