"""Paging plans for the two trade endpoints, as pure state machines the hooks drive.

Data API ``/trades`` pages with ``offset`` but rejects offsets past a cap (10,000) and returns
rows newest first. To read deeper, the plan *narrows the window*: when the next offset would pass
the cap it sets ``end`` to one second after the oldest row seen and starts again at offset 0.
Whether the API treats ``end`` as inclusive is unconfirmed; either way every row of the oldest
second is read again in the new window, never skipped. Re-read rows get the same fill ids (the
normaliser restarts its counters) and are dropped as already stored.

CLOB ``/data/trades`` pages with an opaque cursor until the sentinel ``LTE=``.
"""

from __future__ import annotations

from dataclasses import dataclass

CLOB_START_CURSOR = "MA=="
CLOB_END_CURSOR = "LTE="
DATA_API_OFFSET_CAP = 10_000


class PagingError(RuntimeError):
    """The plan cannot make progress (e.g. more rows in one second than the offset cap)."""


@dataclass
class DataApiWindowPager:
    """Plan of ``/trades`` requests for one wallet between ``start_s`` and ``end_s``."""

    start_s: int
    end_s: int
    page_size: int
    offset_cap: int = DATA_API_OFFSET_CAP
    offset: int = 0
    done: bool = False
    windows: int = 1

    def __post_init__(self) -> None:
        if self.page_size <= 0 or self.page_size > self.offset_cap:
            raise ValueError(f"page_size must be between 1 and {self.offset_cap}; got {self.page_size}")
        if self.start_s > self.end_s:
            self.done = True

    def params(self) -> dict[str, int]:
        return {"start": self.start_s, "end": self.end_s, "limit": self.page_size, "offset": self.offset}

    def feed(self, rows: int, oldest_ts_s: int | None) -> bool:
        """Record a page of ``rows`` rows; return True when the window was narrowed (re-read)."""
        if rows < self.page_size:
            self.done = True
            return False
        self.offset += rows
        if self.offset + self.page_size <= self.offset_cap:
            return False
        if oldest_ts_s is None:
            raise PagingError("a full page carried no timestamps; cannot narrow the window")
        new_end = oldest_ts_s + 1
        if new_end >= self.end_s:
            raise PagingError(
                f"more than {self.offset_cap} fills at or after second {oldest_ts_s}: the Data API "
                "offset cap cannot be paged past. Use source=clob for this wallet or raise the cap."
            )
        self.end_s = new_end
        self.offset = 0
        self.windows += 1
        return True


@dataclass
class ClobCursorPager:
    """Plan of ``/data/trades`` requests: follow ``next_cursor`` until ``LTE=``."""

    after_s: int
    before_s: int
    cursor: str = CLOB_START_CURSOR
    done: bool = False

    def params(self, maker_address: str) -> dict[str, str | int]:
        return {"maker_address": maker_address, "after": self.after_s, "before": self.before_s, "next_cursor": self.cursor}

    def feed(self, next_cursor: str | None) -> None:
        if not next_cursor or next_cursor == CLOB_END_CURSOR:
            self.done = True
            return
        if next_cursor == self.cursor:
            raise PagingError(f"CLOB returned the same cursor {next_cursor!r} twice; refusing to loop")
        self.cursor = next_cursor
