"""Data API v2 ``GET /v2/trades`` as documented (``shared/polymarket-api.md`` §3.3, §3.6), and its faults.

- Envelope ``{"data": [...], "pagination": {"next_cursor": str | null, "has_more": bool, "limit", "offset"}}``;
  ``has_more`` agrees with ``next_cursor != null``; rows snake_case (``token_id`` for v1's ``asset``).
- A keyset walk on ``(timestamp, sequence)``, newest first. A fill's sequence is its place among the
  fills of its second counted from the oldest arrival, so fills arriving while a client walks never
  move the walk: one newer than the anchor is served only by the next walk from the top, one older
  is served when the walk reaches it.
- The cursor is opaque and signed: it carries the anchor, the page size (a ``limit`` sent with a
  cursor is ignored) and the display offset. A tampered cursor is a 400 naming ``cursor``.
- ``offset`` is a 400 naming ``offset``; ``limit`` above 1,000 is a 400 naming ``limit``.
- ``taker_only`` (default true), ``filter_type`` (TOKENS | CASH) and ``filter_amount`` (default 0.01,
  0 means the same): fills below the minimum are never served (§3.6).
- ``start``/``end`` in seconds, inclusive; ``start`` 0 or omitted floors to three years back, ``end``
  0 or omitted is now plus one day.

Faults (fields of the emulator's ``Paging``, all off by default):

``v2_empty_pages`` N
    the first N requests that carry a cursor get an empty page with ``has_more`` true and the same cursor.
``v2_reject_cursor_at`` K (+ ``v2_reject_cursor_times``, default 1; null = every time)
    from the K-th request that carries a cursor on, cursors are rejected: 400 naming ``cursor``.
``v2_ignore_cursor``
    the cursor is ignored: the walk's first page again, with the same ``next_cursor``.
``v2_inclusive_anchor``
    the keyset anchor is inclusive (an off-by-one): a cursor's page starts with its anchor row, the
    previous page's last row, again; the cursor still moves on (each page serves ``limit - 1`` new rows).
``v2_arrive`` N (+ ``v2_arrive_times``)
    after each served page, for the first ``v2_arrive_times`` pages (null = all): N fills arrive newer
    than the anchor (in the anchor's second, above it, and at the wallet's newest second + 1) and N
    older (one second below the anchor); they join the truth.
``drop_user_filter`` and ``ignore_end`` (shared with v1 ``/trades``)
    rows of every wallet; rows newer than ``end``.
429 and 503 with ``Retry-After`` come from ``POST /__emulator/faults`` (``path`` ``/v2/trades``).
"""

from __future__ import annotations

import base64
import bisect
import hashlib
import hmac
import json
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

V2_LIMIT_MAX = 1000
V2_MIN_SIZE = 0.01
_SECRET = hashlib.sha256(b"clob-pipeline emulator /v2/trades cursor").digest()


class V2Error(Exception):
    """A documented v2 error: status, message, the parameter it names."""

    def __init__(self, status: int, message: str, parameter: str | None = None, code: str = "invalid_request") -> None:
        super().__init__(message)
        self.status, self.parameter, self.code = status, parameter, code


def error_body(status: int, message: str, parameter: str | None = None, code: str | None = None) -> dict[str, Any]:
    """The v2 error body ``{error, code, retryable, trace_id, parameter?}``."""
    body: dict[str, Any] = {
        "error": message,
        "code": code or {400: "invalid_request", 404: "not_found", 429: "rate_limited"}.get(status, "internal"),
        "retryable": status == 429 or status >= 500,
        "trace_id": uuid.uuid4().hex,
    }
    if parameter:
        body["parameter"] = parameter
    return body


def v2_row(fill: Any) -> dict[str, Any]:
    """The fill's v1 ``/trades`` row in v2's names: snake_case, ``token_id`` for ``asset``."""
    from polymarket_emulator.server import data_api_row

    return {_V2_NAMES.get(key) or _snake(key): value for key, value in data_api_row(fill).items()}


_V2_NAMES = {"asset": "token_id"}


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)


def encode_cursor(anchor_ts: int, anchor_seq: int, limit: int, offset: int) -> str:
    payload = base64.urlsafe_b64encode(json.dumps([anchor_ts, anchor_seq, limit, offset]).encode()).decode().rstrip("=")
    return f"{payload}.{hmac.new(_SECRET, payload.encode(), hashlib.sha256).hexdigest()[:16]}"


def decode_cursor(cursor: str) -> tuple[int, int, int, int]:
    payload, _, signature = cursor.partition(".")
    expected = hmac.new(_SECRET, payload.encode(), hashlib.sha256).hexdigest()[:16]
    if not hmac.compare_digest(signature, expected):
        raise V2Error(400, "cursor is invalid or expired; start the walk again without it", "cursor", "invalid_cursor")
    try:
        ts, seq, limit, offset = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return int(ts), int(seq), int(limit), int(offset)
    except (ValueError, TypeError) as err:
        raise V2Error(400, "cursor is malformed", "cursor", "invalid_cursor") from err


@dataclass
class V2Counters:
    """Fault counters for one paging setting (reset when the settings change)."""

    paging_id: int = 0
    # "cursor_requests", "rejected", "empty_served", "arrivals": how often each fault's trigger has been seen
    seen: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)
    keys: tuple[Any, list[int]] | None = None  # (fills list, -ts keys) of the last list seen


def _counters(state: Any) -> V2Counters:
    counters = getattr(state, "v2_counters", None)
    if counters is None or counters.paging_id != id(state.paging):
        counters = state.v2_counters = V2Counters(paging_id=id(state.paging))
    return counters


def query_int(query: dict[str, str], name: str, default: int) -> int:
    """An integer query parameter (``default`` when absent or empty); a 400 naming it otherwise."""
    raw = query.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError:
        raise V2Error(400, f"{name} must be an integer", name) from None


def _keys(counters: V2Counters, fills: list[Any]) -> list[int]:
    cached = counters.keys
    if cached is None or cached[0] is not fills:
        cached = counters.keys = (fills, [-f.ts for f in fills])
    return cached[1]


def serve(state: Any, query: dict[str, str]) -> dict[str, Any]:
    """One ``/v2/trades`` response body; raises :class:`V2Error` for a documented error."""
    if "offset" in query:
        raise V2Error(400, "offset is not supported on /v2/trades; page with cursor", "offset")
    paging, counters, dataset = state.paging, _counters(state), state.dataset
    user = query.get("user", "").lower()
    if user and not (len(user) == 42 and user.startswith("0x")):
        raise V2Error(400, "user must match ^0x[a-fA-F0-9]{40}$", "user")
    now = int(time.time())
    start, end = query_int(query, "start", 0), query_int(query, "end", 0)
    lo = start if start else now - 3 * 365 * 86_400
    hi = 2**62 if paging.ignore_end else (end if end else now + 86_400)
    taker_only = query.get("taker_only", "true").lower() != "false"
    filter_type = query.get("filter_type", "TOKENS").upper()
    if filter_type not in ("TOKENS", "CASH"):
        raise V2Error(400, "filter_type must be TOKENS or CASH", "filter_type")
    try:
        amount = max(V2_MIN_SIZE, float(query.get("filter_amount") or 0))
    except ValueError:
        raise V2Error(400, "filter_amount must be a number", "filter_amount") from None
    cursor = query.get("cursor") or None
    anchor: tuple[int, int] | None = None
    if cursor:
        with counters.lock:
            seen = counters.seen
            seen["cursor_requests"] += 1
            reject = (
                paging.v2_reject_cursor_at is not None
                and seen["cursor_requests"] >= paging.v2_reject_cursor_at
                and (paging.v2_reject_cursor_times is None or seen["rejected"] < paging.v2_reject_cursor_times)
            )
            seen["rejected"] += reject
            empty = not reject and seen["empty_served"] < paging.v2_empty_pages
            seen["empty_served"] += empty
        if reject:
            state.stats["paging:v2_cursor_rejected"] += 1
            raise V2Error(400, "cursor is invalid or expired; start the walk again without it", "cursor", "invalid_cursor")
        anchor_ts, anchor_seq, limit, offset = decode_cursor(cursor)
        if empty:
            state.stats["paging:v2_empty_page"] += 1
            return {"data": [], "pagination": {"next_cursor": cursor, "has_more": True, "limit": limit, "offset": offset}}
        if paging.v2_ignore_cursor:
            state.stats["paging:v2_cursor_ignored"] += 1
            offset = 0
        else:
            anchor = (anchor_ts, anchor_seq)
    else:
        limit, offset = query_int(query, "limit", 100), 0
        if not 0 <= limit <= V2_LIMIT_MAX:
            raise V2Error(400, f"limit must be between 0 and {V2_LIMIT_MAX}", "limit")
    dropped = paging.drops_user_filter(user) or not user
    if dropped and user:
        state.stats["paging:user_filter_dropped"] += 1
    fills = (
        sorted((f for w in dataset.wallets for f in dataset.visible_fills(w)), key=lambda f: -f.ts)
        if dropped
        else dataset.visible_fills(user)
    )
    keys = _keys(counters, fills) if not dropped else [-f.ts for f in fills]
    if anchor is None:
        index = bisect.bisect_left(keys, -hi)
    else:
        first, end_of_second = bisect.bisect_left(keys, -anchor[0]), bisect.bisect_right(keys, -anchor[0])
        at_anchor = end_of_second - 1 - anchor[1]  # a fill's sequence counts from its second's oldest
        index = max(first, at_anchor if paging.v2_inclusive_anchor else at_anchor + 1)
        if paging.v2_inclusive_anchor:
            state.stats["paging:v2_inclusive_anchor"] += 1

    def served(f: Any) -> bool:
        return (not taker_only or f.role == "taker") and (f.size if filter_type == "TOKENS" else f.size * f.price) >= amount

    page: list[int] = []
    more = False
    for i in range(index, len(fills)):
        f = fills[i]
        if f.ts < lo:
            break
        if f.ts > hi or not served(f):
            continue
        if len(page) == limit:
            more = True
            break
        page.append(i)
    next_cursor = None
    if more and page:
        last = page[-1]
        seq = bisect.bisect_right(keys, -fills[last].ts) - 1 - last
        next_cursor = encode_cursor(fills[last].ts, seq, limit, offset + len(page))
    elif more:  # limit 0: nothing served, the same place again
        next_cursor = cursor or encode_cursor(hi + 1, 0, limit, offset)
    body = {
        "data": [v2_row(fills[i]) for i in page],
        "pagination": {"next_cursor": next_cursor, "has_more": next_cursor is not None, "limit": limit, "offset": offset},
    }
    if page and user and not dropped:
        _arrive(state, counters, user, fills[page[-1]].ts, lo)
    return body


def _arrive(state: Any, counters: V2Counters, wallet: str, anchor_ts: int, lo: int) -> None:
    """The ``v2_arrive`` fault: fills written while the client walks, newer and older than its anchor."""
    paging = state.paging
    if not paging.v2_arrive:
        return
    with counters.lock:
        if paging.v2_arrive_times is not None and counters.seen["arrivals"] >= paging.v2_arrive_times:
            return
        counters.seen["arrivals"] += 1
    added = state.dataset.arrive(wallet, paging.v2_arrive, anchor_ts)  # above the anchor in its second
    added += state.dataset.arrive(wallet, paging.v2_arrive)  # the wallet's newest second + 1
    if anchor_ts - 1 >= lo:
        added += state.dataset.arrive(wallet, paging.v2_arrive, anchor_ts - 1)  # below the anchor
    state.stats["paging:v2_arrived"] += len(added)
