"""Paging plans for the two trade endpoints: pure state machines the loader drives.

One small interface serves both sources (``Pager``): ``next_request()`` says what to ask next
(None when done), ``feed(body)`` takes the decoded response and returns the rows that are final
plus a resume point. The loader sends the requests, writes the rows and checkpoints the resume
point once they are stored; nothing here does I/O.

**Data API ``/trades``: complete-second paging.** Rows come newest first, and a page can end in
the middle of a second. So the pager pages by time, not by position: from a full response it keeps
the seconds that are certainly complete (all but the oldest, which may be cut) and asks again with
``end`` at that oldest second, always at offset 0. A second is always taken whole from one
response, so rows that shift while paging, ties served in another order, an ignored offset or a
lower offset cap cannot duplicate or lose a fill. Only a second with more fills than one response
holds is read by offset inside a one-second window; it is read twice and both reads must agree.

What the API is not trusted with (see ``shared/polymarket-api.md`` §3.5):

- **the end of data** is a response with nothing in the window, or one shorter than the page size
  the server really serves (learned by a probe, ``DataApiPager.for_task``, and from
  the largest response this pager got; a ``limit`` may be clamped), never "fewer rows than asked".
  Before any size is known, no page is short;
- **``end`` inclusive or exclusive**: the pager asks ``end`` one second late and drops that
  second's rows, which come back only if ``end`` is inclusive; once they do, it asks ``end`` exactly;
- **``start``** is sent one second early and rows before the window are dropped, so either
  reading of ``start`` works; such a row also proves the window is exhausted;
- **``end`` ignored**: a row newer than ``end`` fails loudly (``PagingError``) before it is kept;
- **offsets** are used only inside one oversized second, where a page that repeats another
  offset's page, the offset cap, more than ``max_burst_pages`` pages, or two reads that disagree
  fail loudly;
- **the user filter**: every row must carry the requested wallet as ``proxyWallet``; a row of another
  wallet fails the walk (``ForeignRowsError``) before any row of that response is handed over.

**Progress.** Every pager exposes ``progress()``, a key that each response must move strictly forward
unless it ends the walk; :class:`ProgressGuard` (used by the fetch loop) fails the wallet after
``MAX_STALLS`` responses in a row that moved nothing, naming what the API answered. So no answer of
the API, however hostile, can keep a walk requesting for ever.

**CLOB ``/data/trades``**: cursor pages inside time windows (``after``/``before`` one second wider
than the window, rows outside dropped). A window is buffered whole (trades seen twice are kept
once, by trade id) and handed over when the cursor ends; windows run newest first and halve when
one holds more than ``max_window_trades``.
"""

from __future__ import annotations

import functools
import json
import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol

from clob_pipeline.errors import NotRetryableError
from clob_pipeline.fills.normalize import timestamp_ms

_log = logging.getLogger(__name__)

CLOB_START_CURSOR = "MA=="
CLOB_END_CURSOR = "LTE="
DATA_API_OFFSET_CAP = 10_000  # documented; users report lower caps, which a 400 or a repeat reveals


class PagingError(NotRetryableError, RuntimeError):
    """The API cannot serve the window completely (or broke its contract); retrying the same
    requests would not help. Rows handed over before it are complete seconds."""


class ForeignRowsError(PagingError):
    """A response held rows of wallets other than the one asked for (the user filter dropped upstream,
    a global feed). None of its rows is handed over, under any wallet."""


class UnexpectedResponseError(RuntimeError):
    """A 200 whose JSON is not the page shape (e.g. an error object): more likely a passing fault of
    the API or a proxy than a contract change, so Airflow retries it. Nothing from it is stored."""


class ApiRequest(NamedTuple):
    endpoint: str
    params: dict[str, Any]


class Fed(NamedTuple):
    """What one response yields: final rows (whole seconds) and where to resume once they are stored."""

    rows: list[Any]
    resume: int  # every second newer than this is handed over


class Pager(Protocol):
    """What every source's pager implements (the fetch loop needs nothing else):

    - ``next_request()``: the next request, or None when the walk is over;
    - ``feed(body)``: the decoded response -> rows to store (whole seconds) and the resume point;
    - ``rejected(error)``: the request failed with ``error``; True when the pager routes around it
      (a v2 cursor refused: start again from the resume point), False to fail the wallet;
    - ``progress()``: a key that grows strictly with every response that does not end the walk
      (checked by :class:`ProgressGuard`);
    - ``position()``: where the walk is, for log lines and errors.
    """

    wallet: str
    done: bool

    def next_request(self) -> ApiRequest | None: ...

    def feed(self, body: Any) -> Fed: ...

    def rejected(self, error: BaseException) -> bool: ...

    def progress(self) -> tuple: ...

    def position(self) -> str: ...


MAX_STALLS = 5  # responses in a row that move nothing before the wallet fails


def describe_body(body: Any) -> str:
    """What a response held, in a few words, for an error message about what the API did."""
    if isinstance(body, dict):
        data = body.get("data")
        rows = f"{len(data)} rows" if isinstance(data, list) else "no data list"
        extra = {k: v for k, v in body.items() if k != "data"}
        return f"{rows}, {str(extra)[:200]}"
    if isinstance(body, list):
        stamps = [r.get("timestamp") for r in body if isinstance(r, dict) and isinstance(r.get("timestamp"), int)]
        span = f", seconds {_iso(max(stamps))}..{_iso(min(stamps))}" if stamps else ""
        return f"{len(body)} rows{span}"
    return repr(body)[:200]


class ProgressGuard:
    """Holds a walk to making progress: each response must move ``pager.progress()`` strictly forward
    or end the walk. A response that moves nothing may happen (an empty page with more to come, a
    retried request); ``max_stalls`` of them in a row fail the wallet with what the API answered."""

    def __init__(self, pager: Pager, max_stalls: int = MAX_STALLS) -> None:
        self.pager, self.max_stalls = pager, max_stalls
        self.best = pager.progress()
        self.stalls = 0

    def check(self, request: ApiRequest, body: Any) -> None:
        """Call after ``pager.feed(body)`` for ``request`` (or after ``pager.rejected`` took its error)."""
        if self.pager.done:
            return
        key = self.pager.progress()
        if key > self.best:
            self.best, self.stalls = key, 0
            return
        self.stalls += 1
        if self.stalls > self.max_stalls:
            raise PagingError(
                f"wallet {self.pager.wallet}: {self.stalls} responses in a row did not move the walk forward "
                f"({self.pager.position()}); the last request GET {request.endpoint} {request.params} was answered "
                f"with {describe_body(body)}. The API is not paging this wallet (an ignored offset or cursor, or "
                "pages that never end); every whole second handed over before is stored. Retry later or load the "
                "wallet through another source."
            )


def check_owner(wallet: str, rows: list[Any], field_name: str, endpoint: str) -> None:
    """Every row must belong to ``wallet`` (its ``field_name``); otherwise nothing of the response is kept."""
    foreign = Counter(
        str(row.get(field_name) if isinstance(row, dict) else None).lower()
        for row in rows
        if not isinstance(row, dict) or str(row.get(field_name) or "").lower() != wallet
    )
    if foreign:
        _foreign_rows(wallet, foreign, len(rows), field_name, endpoint, "the user filter was not applied")


def check_clob_owner(wallet: str, trades: list[Any]) -> None:
    """Every CLOB trade must be ``wallet``'s: as taker (the top-level ``maker_address`` is the taker
    order's funder) or through one of its ``maker_orders``. Otherwise nothing of the response is kept.

    Why: ``/data/trades`` lists the *key owner's* trades; the pager asks ``maker_address=<wallet>``, but
    whether the API rejects, empties or ignores that filter for another wallet is UNCONFIRMED
    (``shared/polymarket-api.md`` §1.6). Ignored, the key owner's taker trades would be stored under
    every wallet loaded with ``source=clob``. Trades the normaliser cannot read (no ``trader_side``,
    not an object) are left to it: it names the field."""
    foreign: Counter = Counter()
    for trade in trades:
        if not isinstance(trade, dict):
            continue
        side = str(trade.get("trader_side") or "").upper()
        if side == "TAKER":
            owners = {str(trade.get("maker_address") or "").lower()}
        elif side == "MAKER":
            orders = trade.get("maker_orders") or []
            owners = {str(o.get("maker_address") or "").lower() for o in orders if isinstance(o, dict)}
        else:
            continue
        if wallet not in owners:
            foreign[f"{side} {'/'.join(sorted(owners - {''})) or None}"] += 1
    if foreign:
        reason = "the maker_address filter was not applied, or the API key is not this wallet's"
        _foreign_rows(wallet, foreign, len(trades), "maker_address", "/data/trades", reason)


def _foreign_rows(wallet: str, foreign: Counter, total: int, field_name: str, endpoint: str, reason: str) -> None:
    shown = ", ".join(f"{w} x{n}" for w, n in foreign.most_common(3))
    raise ForeignRowsError(
        f"wallet {wallet}: {endpoint} answered {sum(foreign.values())} of {total} rows for other wallets "
        f"({field_name}: {shown}{' ...' if len(foreign) > 3 else ''}): {reason}. None of "
        "these rows is stored, under any wallet; fills handed over before this response are this wallet's own. "
        "Retry later; if it persists, report it to Polymarket or load the wallet through another source."
    )


def _second(row: Any, field_name: str) -> int:
    """A row's Unix second (seconds or milliseconds, by magnitude); a bad value names the field."""
    value = row.get(field_name) if isinstance(row, dict) else None
    return timestamp_ms(value, field_name, "paging") // 1000


def _canonical(row: Any) -> str:
    return json.dumps(row, sort_keys=True, separators=(",", ":"))


def _page_key(rows: list[Any]) -> str:
    return "\n".join(_canonical(row) for row in rows)


@dataclass
class _SecondRead:
    """Reading one second by offset (it holds more fills than one response): two full passes."""

    second: int
    offset: int = 0
    passes: list[Counter] = field(default_factory=lambda: [Counter()])
    rows: list[Any] = field(default_factory=list)  # first pass, in served order
    pages: dict[str, int] = field(default_factory=dict)  # page content -> offset it was served at
    held: tuple[list[Any], list[int], bool] | None = None  # a repeated page, until offset + 1 says why
    reads: int = 0  # pages read in this pass


@dataclass
class DataApiPager:
    """Complete-second paging of one wallet's ``/trades`` between ``start_s`` and ``upper_s``
    (both inclusive). ``upper_s`` moves down as seconds are handed over: it is the resume point."""

    wallet: str
    start_s: int
    upper_s: int
    page_size: int
    served_size: int = 0  # rows per page the server serves (learned by a probe); 0 = unknown
    offset_cap: int = DATA_API_OFFSET_CAP
    max_burst_pages: int = DATA_API_OFFSET_CAP // 100  # pages per read of one oversized second
    end_extra: int = 1  # ask ``end`` one second late until the API shows ``end`` is inclusive (then 0)
    done: bool = False
    _burst: _SecondRead | None = None

    def __post_init__(self) -> None:
        if self.page_size <= 0:
            raise ValueError(f"page_size must be positive; got {self.page_size}")
        self.done = self.start_s > self.upper_s

    @classmethod
    def for_task(cls, client: Any, page_size: int) -> Callable[[str, int, int], DataApiPager]:
        """The task's pager factory, after learning once how many rows a page really holds: one
        market-wide ``/trades`` page (always more rows than a page) for ``limit=page_size``.

        Why: ``limit`` may be clamped (older docs and users report 500), so a page shorter than asked is
        not the end of data; a page shorter than what the server serves is. If the probe fails, the size
        stays unknown (0) and is learned from each wallet's own responses."""
        try:
            rows = client.get_json("/trades", {"limit": page_size, "offset": 0, "takerOnly": "false"})
        except Exception as exc:  # noqa: BLE001 -- any failure only means "size unknown"
            _log.warning("could not learn the served page size (%s); each wallet learns it from its own pages", exc)
            rows = None
        served = len(rows) if isinstance(rows, list) else 0
        _log.info("Data API /trades serves %s rows per page for limit=%d", served or "unknown", page_size)
        return functools.partial(cls, page_size=page_size, served_size=served)

    def position(self) -> str:
        where = f"second {self._burst.second} offset {self._burst.offset}" if self._burst else "window"
        return f"{where}, {_iso(self.start_s)}..{_iso(self.upper_s)}"

    def progress(self) -> tuple:
        """Older resume point, then ``end`` learned exact, then the read of an oversized second."""
        burst = self._burst
        inside = (1, len(burst.passes), burst.offset, burst.held is not None) if burst else (0, 0, 0, False)
        return (-self.upper_s, -self.end_extra, *inside)

    def rejected(self, error: BaseException) -> bool:
        return False  # nothing to route around: the hook's error fails the wallet

    def next_request(self) -> ApiRequest | None:
        if self.done:
            return None
        burst = self._burst
        upper = burst.second if burst else self.upper_s
        offset = (burst.offset + 1 if burst.held else burst.offset) if burst else 0
        params = {
            "user": self.wallet,
            "takerOnly": "false",
            "start": max(1, (burst.second if burst else self.start_s) - 1),
            "end": upper + self.end_extra,
            "limit": self.page_size,
            "offset": offset,
        }
        return ApiRequest("/trades", params)

    def feed(self, body: Any) -> Fed:
        if not isinstance(body, list):
            raise UnexpectedResponseError(
                f"wallet {self.wallet}: /trades answered {str(body)[:200]!r}, not a JSON array; nothing from it is stored. "
                "Retried; if it persists, the API changed its shape: update fills/pagers.py."
            )
        check_owner(self.wallet, body, "proxyWallet", "/trades")
        seconds = [_second(row, "timestamp") for row in body]
        if any(a < b for a, b in zip(seconds, seconds[1:])):
            raise PagingError(f"wallet {self.wallet}: /trades rows are not newest first ({self.position()}); cannot page by time")
        served = len(body)
        # A page shorter than the largest the server served (the probe's or this walk's) is short:
        # a clamped ``limit`` serves that size every time. Before any size is known no page is short.
        full = not self.served_size or served >= self.served_size
        self.served_size = max(self.served_size, served)
        top = self._burst.second if self._burst else self.upper_s
        if seconds and seconds[0] > top + self.end_extra:
            raise PagingError(
                f"wallet {self.wallet}: the Data API ignored end={top + self.end_extra} (served a fill at "
                f"{_iso(seconds[0])}); without a working end it cannot be paged by time. Every fill newer than "
                f"{_iso(top)} is stored; retry later, or load this wallet with source=clob if it is the key owner."
            )
        if self.end_extra and seconds and seconds[0] == top + 1:
            self.end_extra = 0  # the second after ``top`` came back: ``end`` is inclusive
            if self._burst is not None:  # its offsets counted those rows: read the second again
                self._burst = _SecondRead(self._burst.second)
                return Fed([], self.upper_s)
            margin = seconds.count(top + 1)
            body, seconds = body[margin:], seconds[margin:]
            if not body and full:
                return Fed([], self.upper_s)  # a page of that second only: ask again without it
        if self._burst is not None:
            return self._feed_burst(body, seconds, full)
        kept = [(s, row) for s, row in zip(seconds, body) if s >= self.start_s]
        if not kept:  # nothing left in the window
            self.done = True
            return Fed([], self.start_s - 1)
        oldest = kept[-1][0]
        if len(kept) < len(body) or not full:  # a row before the window, or a short page: all is here
            self.done = True
            return Fed([row for _, row in kept], self.start_s - 1)
        complete = [row for s, row in kept if s > oldest]
        if complete:
            self.upper_s = oldest
            return Fed(complete, self.upper_s)
        self._burst = _SecondRead(oldest)  # the whole response is one second
        return Fed([], self.upper_s)

    def _feed_burst(self, body: list[Any], seconds: list[int], full: bool) -> Fed:
        burst = self._burst
        assert burst is not None
        if burst.held is not None:  # the answer at offset + 1 of a repeated page
            held, burst.held = burst.held, None
            shifted = [_canonical(row) for row in body[: len(held[0]) - 1]]
            if shifted != [_canonical(row) for row in held[0][1:]]:
                raise self._incomplete(
                    f"the page at offset {burst.offset} repeats the page at offset {burst.pages[_page_key(held[0])]} "
                    f"and offset {burst.offset + 1} does not continue it: offsets are not honoured"
                )
            body, seconds, full = held
        elif self._repeats(body):
            burst.held = (body, seconds, full)
            return Fed([], self.upper_s)
        at_second = [row for s, row in zip(seconds, body) if s == burst.second]
        finished = not body or not full or len(at_second) < len(body)  # empty, short, or an older second reached
        burst.pages[_page_key(body)] = burst.offset
        burst.reads += 1
        burst.passes[-1].update(_canonical(row) for row in at_second)
        if len(burst.passes) == 1:
            burst.rows.extend(at_second)
        if not finished:
            burst.offset += len(body)
            if burst.offset > self.offset_cap:
                raise self._incomplete(f"it holds more than the offset cap ({self.offset_cap}) lets us read")
            if burst.reads >= self.max_burst_pages:
                raise self._incomplete(
                    f"one read took {burst.reads} pages of {len(body)} rows (at most {self.max_burst_pages}): "
                    "offsets may be ignored, or the second is larger than the API serves"
                )
            return Fed([], self.upper_s)
        if len(burst.passes) == 1:  # read it again: ties served in another order would differ
            burst.passes.append(Counter())
            burst.offset, burst.pages, burst.reads = 0, {}, 0
            return Fed([], self.upper_s)
        if burst.passes[0] != burst.passes[1]:
            raise self._incomplete(
                f"two reads disagree ({sum(burst.passes[0].values())} vs {sum(burst.passes[1].values())} fills): "
                "fills of one second are served in an unstable order"
            )
        self._burst = None
        self.upper_s = burst.second - 1
        self.done = self.upper_s < self.start_s
        return Fed(burst.rows, self.upper_s)

    def _repeats(self, body: list[Any]) -> bool:
        """A page of several different rows that was already served at another offset: either the
        API ignores offsets or the second's rows repeat in a pattern; offset + 1 tells which."""
        burst = self._burst
        assert burst is not None
        return len({_canonical(row) for row in body}) > 1 and burst.pages.get(_page_key(body), burst.offset) != burst.offset

    def _incomplete(self, why: str) -> PagingError:
        burst = self._burst
        assert burst is not None
        served = sum(burst.passes[0].values())
        return PagingError(
            f"wallet {self.wallet}: the Data API cannot serve second {_iso(burst.second)} completely: {why}. "
            f"{served} fills of that second were served and none of them is stored; every fill newer than it is "
            f"stored. Load this wallet with source=clob if it is the CLOB key owner, or report the second to "
            "Polymarket; the rest of the wallet's history loads once this second can be read."
        )


V2_MAX_LIMIT = 1000  # the largest documented /v2/trades page


class _HeldPage(NamedTuple):
    """The page that repeated the previous page's last row, kept while that second is read alone."""

    data: list[Any]
    seconds: list[int]
    next_cursor: Any
    has_more: Any
    walk: tuple[int, int]  # the walk's filters, sent again with its cursor
    cursor: str | None  # the cursor that fetched it
    skipped: int  # the walk's rows outside the window so far
    served: int  # rows of that second the walk had served before the boundary (for an error)

# More fills of one wallet in one second than one Polygon block can hold (a block every ~2 s, at most a
# few thousand fills per block by gas): a second growing past it is the API serving the same rows again.
MAX_SECOND_FILLS = 10_000


@dataclass
class DataApiV2Pager:
    """Keyset walk of one wallet's ``/v2/trades`` between ``start_s`` and ``upper_s`` (both inclusive).

    Requests: ``user``, ``taker_only=false``, ``start``/``end`` one second wider than the window (so an
    inclusive and an exclusive reading both cover it; rows of those two seconds are dropped; all history
    is ``start=1``), ``limit`` the largest documented (1,000), then ``cursor=<next_cursor>`` with the
    same filters on every page. Whether v2's ``start``/``end`` are inclusive is not documented: once a
    row of the extra second comes back, that bound is inclusive and later walks ask it exactly
    (``start_extra``/``end_extra`` 0, as ``DataApiPager.end_extra``). Rows of the extra seconds take page
    space, so they never decide that a second is too large for a page: a walk whose extra second came
    back on the near side is asked again exactly. The walk ends when ``next_cursor`` is null (a short or
    empty page with ``has_more`` true is not the end), or at a row beyond the window's far side: every
    row of the window came before it along the walk, so its pending second is whole.

    Checked on every page: the envelope; every row's ``proxy_wallet`` is the wallet (``ForeignRowsError``
    otherwise); every row inside the requested ``start``/``end``; timestamps moving one way only along
    the walk (newest first expected; oldest first is followed too). A page can end inside a second, so
    the rows of the walk's current second wait (``_pending``) until a row of the next second or the
    walk's end shows the second is whole: only whole seconds are handed over, so a fill's identity (its
    content and rank within its second) is the same as through v1.

    When the walk cannot go on -- the cursor rejected (HTTP 400 naming ``cursor``), the cursor ignored
    (its own cursor answered again, or rows of a second the walk had passed), ``has_more`` true without
    a cursor -- it starts again
    from its resume point: the newest second not yet handed over, read whole (``end`` = that second).
    Nothing handed over is read twice as new and nothing is skipped. Once the cursor has been ignored,
    every page is followed by such a restart instead of the cursor ("windows"), which ends exactly
    unless one second holds more fills than a page (then it fails loudly). One case cannot be told
    apart from real data: an API that ignores the cursor, answers it with a fresh cursor each time, and
    whose newest second holds more fills than a page serves that page again and again as the same
    second's continuation (rows carry no id, and a second of repeating fills pages that way too). It
    is bounded instead: one wallet's fills in one second cannot exceed what one Polygon block holds (a
    block every ~2 s, each fill tens of thousands of gas: well under ``MAX_SECOND_FILLS``), so a second
    that grows past it fails loudly. An empty ``next_cursor`` ("") is no cursor: sent, it would ask
    for the walk's first page again. ``filter_amount``: v2 never serves fills below 0.01 shares
    (``shared/polymarket-api.md`` §3.6); such fills are not in the walk.

    **A page boundary that repeats its row.** A page whose first row is identical to the previous page's
    last row, in the same second, is either a cursor that serves its anchor again (an inclusive keyset
    anchor: one phantom per page boundary) or two identical fills of that second split by the boundary;
    one read cannot tell which. So the boundary is not trusted: that second is read again alone (a new
    walk covering only it, one page when it holds no more fills than a page) and its fills are taken from
    that read only; the walk then goes on from the page that repeated (its rows of that second dropped).
    This costs requests only when boundary rows are identical. A second that does not fit one page and
    whose boundary repeats in that read too cannot be counted: the wallet fails loudly, naming the second
    and the counts, with only whole seconds stored. (If the walk's direction is still unknown then, all it
    served was that second: it is taken as newest first, and a later row going the other way fails.)
    """

    wallet: str
    start_s: int
    upper_s: int
    page_size: int = V2_MAX_LIMIT
    max_second_fills: int = MAX_SECOND_FILLS
    done: bool = False
    cursor: str | None = None
    trust_cursor: bool = True
    direction: int = 0  # -1 newest first, +1 oldest first, 0 not known yet
    walks: int = 1
    end_extra: int = 1  # ask ``end`` one second late until a row of that second shows it inclusive (then 0)
    start_extra: int = 1  # the same for ``start``, one second early
    _lower_s: int = 0  # every second below it is handed over (an oldest-first walk moves it up)
    _pending: list[Any] = field(default_factory=list)  # rows of the walk's current second
    _pending_s: int | None = None
    _last_s: int | None = None  # the last row's second along this walk
    _skipped: int = 0  # rows of the extra seconds on either side, in this walk
    _walk: tuple[int, int] = (0, 0)  # this walk's start and end, sent on every page
    _tail: tuple[int, str] | None = None  # the previous page's last row (second, content), if in the window
    _reread: int | None = None  # the second being read again alone (a page boundary repeated its row)
    _held: _HeldPage | None = None  # the page that repeated it: the walk goes on from there
    _direction_assumed: bool = False  # newest first taken without a row showing it (see the docstring)
    _learned: bool = False  # this walk showed a bound inclusive: its extra second's rows took page space
    _passed: bool = False  # this walk served a row beyond the window's far side: it served all the window
    restarts: Counter = field(default_factory=Counter)  # new walks by reason, for the closing line

    def __post_init__(self) -> None:
        if self.page_size <= 0:
            raise ValueError(f"page_size must be positive; got {self.page_size}")
        self.page_size = min(self.page_size, V2_MAX_LIMIT)
        self._lower_s = self.start_s
        self.done = self.start_s > self.upper_s

    def position(self) -> str:
        mode = "cursor" if self.cursor else "first page"
        alone = f", reading {_iso(self._reread)} again alone" if self._reread is not None else ""
        return (
            f"walk {self.walks} ({mode}{'' if self.trust_cursor else ', cursors ignored: windows'}{alone}), "
            f"{_iso(self._lower_s)}..{_iso(self.upper_s)}, {len(self._pending)} rows of {_iso(self._pending_s or 0)} pending"
        )

    def progress(self) -> tuple:
        """A narrower window left to read, then a second being read again alone, then more rows of the
        current second read in this walk (a restart reads them again, which is not progress until it
        gets further)."""
        extras = -(self.start_extra + self.end_extra)  # a bound learned exact
        return (self._lower_s - self.upper_s, extras, int(self._reread is not None), len(self._pending), self._skipped)

    def _bounds(self) -> tuple[int, int]:
        """The seconds this walk hands over: the window left, or the one second read again alone."""
        return (self._reread, self._reread) if self._reread is not None else (self._lower_s, self.upper_s)

    def next_request(self) -> ApiRequest | None:
        if self.done:
            return None
        if self.cursor is None:  # a walk starts: its filters stay the same on every page
            lo, hi = self._bounds()
            self._walk = (max(1, lo - self.start_extra), hi + self.end_extra)
        start, end = self._walk
        params: dict[str, Any] = {"user": self.wallet, "taker_only": "false", "start": start, "end": end, "limit": self.page_size}
        if self.cursor:
            params["cursor"] = self.cursor
        return ApiRequest("/v2/trades", params)

    def rejected(self, error: BaseException) -> bool:
        """A cursor refused (HTTP 400 naming ``cursor``, e.g. expired): start again from the resume
        point. Anything else is not the pager's to handle."""
        if self.cursor is None or getattr(error, "status", None) != 400 or getattr(error, "parameter", None) != "cursor":
            return False
        self._restart("cursor rejected")
        return True

    def feed(self, body: Any) -> Fed:
        data = body.get("data") if isinstance(body, dict) else None
        pagination = body.get("pagination") if isinstance(body, dict) else None
        if not isinstance(data, list) or not isinstance(pagination, dict):
            raise UnexpectedResponseError(
                f"wallet {self.wallet}: /v2/trades answered {str(body)[:200]!r}, not {{data, pagination}}; nothing from "
                "it is stored. Retried; if it persists, the API changed its shape: update fills/pagers.py."
            )
        next_cursor, has_more = pagination.get("next_cursor") or None, pagination.get("has_more")  # "": none
        check_owner(self.wallet, data, "proxy_wallet", "/v2/trades")
        seconds = [_second(row, "timestamp") for row in data]
        lo, hi = self._walk
        outside = [s for s in seconds if not lo <= s <= hi]
        if outside:
            raise PagingError(
                f"wallet {self.wallet}: /v2/trades served a fill at {_iso(outside[0])}, outside the requested "
                f"start={lo}..end={hi} ({self.position()}): the API did not honour the window. Every fill "
                "handed over before is stored; retry later or load the wallet with source=data_api_v1."
            )
        if data and self._out_of_order(seconds):
            if self.cursor and not self._direction_assumed:
                return self._restart("cursor ignored")  # the cursor was not followed: a page from elsewhere
            raise PagingError(
                f"wallet {self.wallet}: /v2/trades rows do not move one way in time ({self.position()}); cannot tell "
                "which seconds are whole. Nothing of this page is stored; retry later or use source=data_api_v1."
            )
        if self.cursor and data and next_cursor == self.cursor:
            return self._restart("cursor ignored")  # its own cursor again: the walk's first page again
        if self.cursor and data and self._tail == (seconds[0], _canonical(data[0])):
            return self._boundary_repeated(data, seconds, next_cursor, has_more)
        handed = self._take(data, seconds)
        if len(self._pending) > self.max_second_fills or self._skipped > 2 * self.max_second_fills:
            raise PagingError(
                f"wallet {self.wallet}: /v2/trades served more than {self.max_second_fills} fills in one second "
                f"({self.position()}, {self._skipped} rows of the seconds just outside the window): more than one "
                "block can hold, so the API is serving the same rows again (a cursor ignored and answered with a "
                "fresh one). None of that second's fills is stored; every whole second handed over before is. "
                "Retry later, or load the wallet with source=data_api_v1."
            )
        if self._reread is not None:
            return self._after_reread_page(next_cursor, has_more)
        return self._after_page(handed, next_cursor, has_more)

    def _take(self, data: list[Any], seconds: list[int]) -> list[Any]:
        """Follow one page's rows along the walk: the seconds it shows whole are returned; the walk's
        current second waits in ``_pending``; rows outside the seconds handed over are skipped."""
        lo, hi = self._bounds()
        handed: list[Any] = []
        for second, row in zip(seconds, data):
            if self._last_s is not None and second != self._last_s and not self.direction:
                self.direction = 1 if second > self._last_s else -1
            self._last_s = second
            if not lo <= second <= hi:
                self._skipped += 1  # the extra second asked on either side of the window, or one handed over
                self._outside(second, lo, hi)
                continue
            if second != self._pending_s:  # a new second: the pending one is whole
                handed += self._pending
                self._pending, self._pending_s = [], second
            self._pending.append(row)
        if data:
            self._tail = (seconds[-1], _canonical(data[-1])) if lo <= seconds[-1] <= hi else None
        return handed

    def _outside(self, second: int, lo: int, hi: int) -> None:
        """A row outside the seconds handed over: the extra second asked on one side shows that bound
        inclusive (asked exactly from the next walk on); one beyond the far side of the window, along the
        walk, shows the walk has served everything in the window."""
        start, end = self._walk
        if self.end_extra and second == end > hi:
            self.end_extra, self._learned = 0, True
        elif self.start_extra and second == start < lo:
            self.start_extra, self._learned = 0, True
        if self.direction and (second - (lo if self.direction < 0 else hi)) * self.direction > 0:
            self._passed = True

    def _boundary_repeated(self, data: list[Any], seconds: list[int], next_cursor: Any, has_more: Any) -> Fed:
        """This page starts with the previous page's last row again (same second, same content): an
        inclusive cursor anchor or two identical fills split by the boundary. Read that second again
        alone and keep this page to go on from once it is read (class docstring)."""
        second = seconds[0]
        if self._reread is not None:  # the second read alone does not fit one page, and repeats again
            held = self._held
            raise PagingError(
                f"wallet {self.wallet}: second {_iso(second)} does not fit one /v2/trades page (limit {self.page_size}) "
                f"and its page boundaries repeat their row: the walk served {held.served if held else '?'} of its fills "
                f"before repeating the last one, and reading the second alone served {len(self._pending)} before "
                "repeating again. The API serves a cursor's anchor row again (an inclusive keyset anchor), or the "
                "second holds identical fills at both boundaries; one cannot tell which, so its fills cannot be "
                f"counted ({self.position()}). None of that second's fills is stored; every whole second handed "
                "over before is. Retry later, or load the wallet with source=data_api_v1."
            )
        if not self.direction:  # all this walk served is this second: this page may show the direction
            steps = [b - a for a, b in zip(seconds, seconds[1:]) if a != b]
            self.direction = (1 if steps[0] > 0 else -1) if steps else -1
            self._direction_assumed = not steps
        self._held = _HeldPage(data, seconds, next_cursor, has_more, self._walk, self.cursor, self._skipped, len(self._pending))
        self.restarts["page boundary repeated"] += 1
        self._reread = second
        self._new_walk()
        return Fed([], self.upper_s)

    def _after_reread_page(self, next_cursor: Any, has_more: Any) -> Fed:
        """The second read alone is whole once its walk ends or a row beyond it (along the walk) comes."""
        if (next_cursor is None and has_more is not True) or self._passed:
            return self._finish_reread()
        if next_cursor is None:
            return self._restart("has_more without a cursor")
        if self._learned:  # the extra second above it took page space: read it again with the exact bound
            self._new_walk()
        else:  # more than a page: its boundaries are checked like any other
            self.cursor = str(next_cursor)
        return Fed([], self.upper_s)

    def _finish_reread(self) -> Fed:
        """Hand the second read alone over whole, then go on with the page that repeated its row (its
        rows of that second are now outside the window), from that page's cursor and filters."""
        second, held = self._reread, self._held
        assert second is not None and held is not None
        rows, self._pending, self._pending_s, self._reread, self._held = self._pending, [], None, None, None
        if self.direction > 0:
            self._lower_s = second + 1
        else:
            self.upper_s = second - 1
        if self._lower_s > self.upper_s:  # it was the window's last second
            self.done = True
            return Fed(rows, self.start_s - 1)
        self._walk, self.cursor, self._skipped, self._last_s = held.walk, held.cursor, held.skipped, second
        self._learned = self._passed = False
        return self._after_page(rows + self._take(held.data, held.seconds), held.next_cursor, held.has_more)

    def _out_of_order(self, seconds: list[int]) -> bool:
        """Whether these seconds, after the walk's last one, change direction."""
        last, direction = self._last_s, self.direction
        for second in seconds:
            if last is not None and second != last:
                step = 1 if second > last else -1
                if direction and step != direction:
                    return True
                direction = step
            last = second
        return False

    def _after_page(self, handed: list[Any], next_cursor: Any, has_more: Any) -> Fed:
        if (next_cursor is None and has_more is not True) or self._passed:  # the walk's end: the pending second is whole
            handed += self._pending
            self._pending, self._pending_s = [], None
            self.done = True
            return Fed(handed, self.start_s - 1)
        if handed:  # everything on the far side of the pending second is handed over
            if self.direction > 0:
                self._lower_s = self._pending_s or self._lower_s
            else:
                self.upper_s = self._pending_s or self.upper_s
        if next_cursor is None:  # has_more without a cursor: this walk cannot go on
            self._restart("has_more without a cursor")
        elif self.trust_cursor:
            self.cursor = str(next_cursor)
        elif handed or not self._pending or self._learned:  # cursors ignored: a new window from the resume point
            self._restart("window")  # (learned: the extra second's rows took page space; now asked exactly)
        else:
            raise PagingError(
                f"wallet {self.wallet}: second {_iso(self._pending_s or 0)} holds more fills than one /v2/trades page and "
                f"the API does not follow cursors ({self.position()}): it cannot be read completely. {len(self._pending)} "
                "of its fills were served and none of them is stored; every fill newer than it is stored. Retry later, "
                "or load the wallet with source=data_api_v1."
            )
        return Fed(handed, self.upper_s)

    def _restart(self, why: str) -> Fed:
        """A new walk from the resume point: the pending second is read again, whole. ``why`` is counted
        for the wallet's closing line (``restarts``)."""
        self.restarts[why] += 1
        self.trust_cursor = self.trust_cursor and why != "cursor ignored"
        self._reread = self._held = None
        self._new_walk()
        return Fed([], self.upper_s)

    def _new_walk(self) -> None:
        """Forget the current walk: the next request starts one (no cursor) over ``_bounds()``."""
        self.cursor, self._pending, self._pending_s, self._last_s, self._tail = None, [], None, None, None
        self._skipped, self._learned, self._passed = 0, False, False
        self.walks += 1


@dataclass
class ClobPager:
    """Cursor paging of the key owner's ``/data/trades`` in time windows, newest first."""

    wallet: str
    start_s: int
    upper_s: int
    span_s: int = 7 * 86_400
    max_window_trades: int = 50_000
    cursor: str = CLOB_START_CURSOR
    done: bool = False
    _trades: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.done = self.start_s > self.upper_s

    @property
    def lower_s(self) -> int:
        return max(self.start_s, self.upper_s - self.span_s + 1)

    def position(self) -> str:
        return f"window {_iso(self.lower_s)}..{_iso(self.upper_s)}, cursor {self.cursor}"

    def progress(self) -> tuple:
        """Older window end, then a narrower window, then more distinct trades in the window."""
        return (-self.upper_s, -self.span_s, len(self._trades))

    def rejected(self, error: BaseException) -> bool:
        return False  # nothing to route around: the hook's error fails the wallet

    def next_request(self) -> ApiRequest | None:
        if self.done:
            return None
        params = {"maker_address": self.wallet, "after": self.lower_s - 1, "before": self.upper_s + 1, "next_cursor": self.cursor}
        return ApiRequest("/data/trades", params)

    def feed(self, body: Any) -> Fed:
        if not isinstance(body, dict) or not isinstance(body.get("data"), list):
            raise UnexpectedResponseError(
                f"wallet {self.wallet}: /data/trades answered {str(body)[:200]!r}, not {{data, next_cursor}}; nothing from "
                "it is stored. Retried; if it persists, the API changed its shape: update fills/pagers.py."
            )
        check_clob_owner(self.wallet, body["data"])
        fresh = 0
        for trade in body["data"]:
            trade_id = trade.get("id") if isinstance(trade, dict) else None
            key = str(trade_id) if trade_id else _canonical(trade)  # the normaliser names a missing id
            if key not in self._trades:
                self._trades[key] = trade
                fresh += 1
        next_cursor = body.get("next_cursor")
        if body["data"] and not fresh:
            raise PagingError(f"wallet {self.wallet}: /data/trades served only trades it had served already ({self.position()})")
        if len(self._trades) > self.max_window_trades:
            if self.span_s == 1:
                raise PagingError(
                    f"wallet {self.wallet}: more than {self.max_window_trades} trades in one second ({self.position()})"
                )
            self.span_s //= 2  # too many to buffer: the same upper bound, a narrower window
            self.cursor, self._trades = CLOB_START_CURSOR, {}
            return Fed([], self.upper_s)
        if next_cursor and next_cursor != CLOB_END_CURSOR:
            if next_cursor == self.cursor:
                raise PagingError(f"wallet {self.wallet}: /data/trades returned the same cursor {next_cursor!r} twice")
            self.cursor = next_cursor
            return Fed([], self.upper_s)
        lower = self.lower_s
        rows = [t for t in self._trades.values() if not isinstance(t, dict) or lower <= _second(t, "match_time") <= self.upper_s]
        if len(self._trades) < self.max_window_trades // 4:
            self.span_s *= 2  # sparse history: wider windows, fewer requests
        self.upper_s, self.cursor, self._trades = lower - 1, CLOB_START_CURSOR, {}
        self.done = self.upper_s < self.start_s
        return Fed(rows, self.upper_s)


def _iso(second: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(max(second, 0)))
