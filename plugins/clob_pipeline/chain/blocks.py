"""Time to block: a binary search over block timestamps, cached (pure; the lookup is injected).

Why a search and not an estimate: Polygon's block time drifts (about 2 s, not exactly), so a block
guessed from a timestamp can be minutes off, and a window that starts a few blocks late skips
fills. The search asks for block headers only where its cache (``chain_block_times``, and every
header seen in this task) does not already bound the answer, so repeated windows cost a few lookups.

A provider that answers with timestamps that go backwards, or with another block than asked for,
is caught here: ``BlockOrderError`` names the blocks and their timestamps.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Callable, Iterable

from clob_pipeline.errors import NotRetryableError

MAX_STEPS = 80  # 2**64 blocks; a search that needs more is looping on a broken provider


class BlockOrderError(NotRetryableError, RuntimeError):
    """Block timestamps the provider served are not ordered by block number."""


class BlockClock:
    """Known (block, timestamp) points, thread-safe; ``lookup(block)`` asks the provider for more."""

    def __init__(self, lookup: Callable[[int], int], known: Iterable[tuple[int, int]] = ()) -> None:
        self._lookup = lookup
        self._lock = threading.Lock()
        self._blocks: list[int] = []
        self._stamps: list[int] = []
        self.new_points: dict[int, int] = {}  # looked up in this task, to write back to the cache table
        for block, ts in sorted(known):
            self._insert(block, ts, new=False)

    def _insert(self, block: int, ts: int, new: bool) -> None:
        i = bisect.bisect_left(self._blocks, block)
        if i < len(self._blocks) and self._blocks[i] == block:
            if self._stamps[i] != ts:
                raise BlockOrderError(f"block {block} was served with timestamps {self._stamps[i]} and {ts}")
            return
        if (i > 0 and self._stamps[i - 1] > ts) or (i < len(self._blocks) and self._stamps[i] < ts):
            left = (self._blocks[i - 1], self._stamps[i - 1]) if i > 0 else None
            right = (self._blocks[i], self._stamps[i]) if i < len(self._blocks) else None
            raise BlockOrderError(
                f"the provider served block {block} at {ts}, out of order with its neighbours {left} and {right} "
                "(block, timestamp): its blocks cannot be searched by time. Check the polygon_rpc host."
            )
        self._blocks.insert(i, block)
        self._stamps.insert(i, ts)
        if new:
            self.new_points[block] = ts

    def add(self, block: int, ts: int) -> None:
        with self._lock:
            self._insert(block, ts, new=True)

    def timestamp(self, block: int) -> int:
        with self._lock:
            i = bisect.bisect_left(self._blocks, block)
            if i < len(self._blocks) and self._blocks[i] == block:
                return self._stamps[i]
        ts = self._lookup(block)
        self.add(block, ts)
        return ts

    def first_at_or_after(self, ts: int, lo: int, hi: int) -> int:
        """The first block in ``lo..hi`` with timestamp >= ``ts``; ``hi + 1`` when there is none."""
        with self._lock:  # narrow the interval with what is known
            i = bisect.bisect_left(self._stamps, ts)
            if i > 0:
                lo = max(lo, self._blocks[i - 1] + 1)  # that block is before ts
            known_hi = self._blocks[i] if i < len(self._blocks) and self._blocks[i] <= hi else None
        if lo > hi:
            return hi + 1
        if known_hi is not None:
            hi = known_hi  # at or after ts
        elif self.timestamp(hi) < ts:
            return hi + 1
        steps = 0
        while lo < hi:  # invariant: ts(hi) >= ts, every block before lo is < ts
            steps += 1
            if steps > MAX_STEPS:
                raise BlockOrderError(f"the block search for {ts} did not converge between blocks {lo} and {hi}")
            mid = (lo + hi) // 2
            if self.timestamp(mid) >= ts:
                hi = mid
            else:
                lo = mid + 1
        return lo

    def last_at_or_before(self, ts: int, lo: int, hi: int) -> int:
        """The last block in ``lo..hi`` with timestamp <= ``ts``; ``lo - 1`` when there is none."""
        return self.first_at_or_after(ts + 1, lo, hi) - 1
