"""Client-side rate limiting for the Polymarket APIs (the retry delays are tenacity's, in ``polymarket.py``).

Polymarket publishes limits per 10-second sliding window (Data API ``/trades`` 200, CLOB
``/data/trades`` 500, Gamma 4,000). Every task of every run that calls an endpoint shares that
one budget, so the limiter's state can live in a small file that all processes of a host lock
with ``fcntl.flock`` (:class:`FileSlotStore`), or in memory for one process (:class:`MemorySlotStore`).

Why slots held until the response is back: the server counts a request when it *arrives*, which
is somewhere between our send and the response. A slot is taken at send and freed one period
after the response, so any server window of ``period_s`` can hold at most ``max_requests`` of
our requests, whatever the latency and its jitter. The price is one latency per period
(150 ms of 10 s: 1.5 % of the budget). A 429 stores ``pause_until`` in the same state, so
every request sharing the budget waits for ``Retry-After``, not only the one that got it.
"""

from __future__ import annotations

import fcntl
import itertools
import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, NamedTuple, Protocol

# How often a waiter looks again when every slot is still in flight (no release time known yet).
_POLL_S = 0.05


class SlotStore(Protocol):
    """Where the limiter's state lives; ``locked()`` yields it mutable and saves it on exit."""

    def locked(self) -> Any: ...


class MemorySlotStore:
    """State for the threads of one process (the budget split between processes, or tests)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._state: dict[str, Any] = {}

    @contextmanager
    def locked(self) -> Iterator[dict[str, Any]]:
        with self._lock:
            yield self._state


class FileSlotStore:
    """State in ``<path>`` shared by every process of one host; ``<path>.lock`` is flock-ed.

    The data file is replaced atomically (write a temporary file, ``os.replace``), so a process
    killed mid-write leaves the previous state, never a torn one. Needs a local filesystem:
    ``flock`` over NFS is not reliable.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock_path = self.path.with_name(self.path.name + ".lock")
        self._thread_lock = threading.Lock()  # one flock holder per process at a time: cheaper than contending

    @contextmanager
    def locked(self) -> Iterator[dict[str, Any]]:
        with self._thread_lock:
            fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                try:
                    state = json.loads(self.path.read_text() or "{}")
                except (OSError, ValueError):
                    state = {}
                before = json.dumps(state)
                yield state
                after = json.dumps(state)
                if after != before:
                    tmp = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
                    tmp.write_text(after)
                    os.replace(tmp, self.path)
            finally:
                os.close(fd)  # releases the flock


class Ticket(NamedTuple):
    """One granted request: give it back to :meth:`SlotLimiter.release` when the response is in."""

    token: str
    waited_s: float


class SlotLimiter:
    """At most ``max_requests`` requests in any ``period_s`` window, counted from send to response + period.

    ``hold_s`` bounds how long a slot may stay "in flight": a process killed mid-request leaves a
    slot that expires ``period_s + hold_s`` after its send (set it above the request timeout).
    Thread-safe and process-safe as far as its store is.
    """

    _ids = itertools.count()

    def __init__(
        self,
        max_requests: int,
        period_s: float,
        store: SlotStore | None = None,
        hold_s: float = 60.0,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if max_requests <= 0 or period_s <= 0:
            raise ValueError(f"rate limit must be positive; got {max_requests} per {period_s}s")
        self.max_requests, self.period_s, self.hold_s = max_requests, period_s, hold_s
        self.store = store or MemorySlotStore()
        self._clock, self._sleep = clock, sleep

    @property
    def budget_per_s(self) -> float:
        return self.max_requests / self.period_s

    def _live(self, slots: list[list[Any]], now: float) -> list[list[Any]]:
        """Slots that still count: in flight (until send + period + hold) or done less than a period ago.

        A slot sent "in the future" means the wall clock went back; it is dropped rather than
        blocking requests until the clock catches up.
        """
        kept = []
        for token, sent, done in slots:
            if sent > now + self.period_s:
                continue
            end = done + self.period_s if done is not None else sent + self.period_s + self.hold_s
            if end > now:
                kept.append([token, sent, done])
        return kept

    def _wait_s(self, state: dict[str, Any], now: float) -> float:
        paused_at, until = state.get("pause", (now, now))
        wait = until - now if paused_at <= now + self.period_s else 0.0  # else the clock went back
        slots = state["slots"]
        if len(slots) >= self.max_requests:
            # The earliest a slot can free: done + period, or for one in flight at least sent + period.
            releases = sorted((done if done is not None else sent) + self.period_s for _, sent, done in slots)
            free_at = releases[len(slots) - self.max_requests]
            wait = max(wait, free_at - now if free_at > now else _POLL_S)
        return max(0.0, wait)

    def acquire(self) -> Ticket:
        """Block until a request may be sent; returns the ticket and how long it waited."""
        waited = 0.0
        while True:
            with self.store.locked() as state:
                now = self._clock()
                state["slots"] = self._live(state.get("slots", []), now)
                wait = self._wait_s(state, now)
                if wait <= 0:
                    token = f"{os.getpid()}-{next(self._ids)}"
                    state["slots"].append([token, now, None])
                    return Ticket(token, waited)
            self._sleep(wait)
            waited += wait

    def release(self, ticket: Ticket) -> None:
        """The response to ``ticket``'s request is in (or it failed): its slot frees one period from now."""
        with self.store.locked() as state:
            now = self._clock()
            for slot in state.get("slots", []):
                if slot[0] == ticket.token:
                    slot[2] = now
                    break

    def pause(self, seconds: float) -> None:
        """Hold every request sharing this budget for ``seconds`` (a 429's Retry-After)."""
        with self.store.locked() as state:
            now = self._clock()
            state["pause"] = [now, now + max(seconds, self._wait_s({**state, "slots": []}, now))]


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """``Retry-After`` as seconds (delta-seconds or an HTTP date); None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return None
    return max(0.0, when - (time.time() if now is None else now))

