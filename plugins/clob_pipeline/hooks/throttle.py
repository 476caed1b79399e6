"""Client-side rate limiting and the retry-delay policy for the Polymarket APIs (pure logic).

Polymarket publishes limits per 10-second sliding window (Data API ``/trades`` 200, CLOB
``/data/trades`` 500, Gamma 4,000). Staying under them on our side avoids 429s; when one comes
anyway, ``Retry-After`` says how long to wait.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from email.utils import parsedate_to_datetime


class SlidingWindowLimiter:
    """At most ``max_requests`` calls to :meth:`acquire` in any ``period_s`` window."""

    def __init__(
        self,
        max_requests: int,
        period_s: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if max_requests <= 0 or period_s <= 0:
            raise ValueError(f"rate limit must be positive; got {max_requests} per {period_s}s")
        self.max_requests, self.period_s = max_requests, period_s
        self._clock, self._sleep = clock, sleep
        self._sent: deque[float] = deque()
        self.waited_s = 0.0

    def acquire(self) -> None:
        now = self._clock()
        while self._sent and now - self._sent[0] >= self.period_s:
            self._sent.popleft()
        if len(self._sent) >= self.max_requests:
            wait = self.period_s - (now - self._sent[0])
            if wait > 0:
                self.waited_s += wait
                self._sleep(wait)
            now = self._clock()
            self._sent.popleft()
        self._sent.append(now)


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


def backoff_delay(attempt: int, base_s: float, cap_s: float) -> float:
    """Exponential backoff: base, 2*base, 4*base ... capped. ``attempt`` starts at 1."""
    return min(cap_s, base_s * (2 ** (attempt - 1)))
