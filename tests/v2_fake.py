"""An in-memory Data API v2 ``/v2/trades`` (keyset on (second, sequence), opaque cursors) with the faults
a hostile or merely documented API can show, for the pager unit tests."""

from __future__ import annotations

import itertools
from typing import Any

from clob_pipeline.fills.pagers import ProgressGuard


class ApiError(Exception):
    """What the hook raises for a non-retryable answer (status, named parameter)."""

    def __init__(self, status: int, parameter: str | None = None) -> None:
        super().__init__(f"HTTP {status} naming {parameter}")
        self.status, self.parameter = status, parameter


class FakeV2Api:
    """Rows are ``{"timestamp", ...}`` dicts; a row's sequence is its arrival number.

    Faults: ``empty_pages`` (the first N cursor requests answer an empty page, has_more true, same cursor),
    ``reject_cursor_at``/``reject_times`` (400 naming cursor from the K-th cursor request, ``reject_times``
    times, None = always), ``ignore_cursor`` (the first page again; ``nonce``: with a fresh cursor string),
    ``arrive`` (after each page, rows arrive above the anchor in its second, at newest + 1, and one second
    below the anchor), ``foreign_from`` (from that request on, every other row belongs to ``other``),
    ``oldest_first``, ``ignore_end``, ``no_cursor_at`` (that request answers has_more true, next_cursor null),
    ``end_cursor`` (what ``next_cursor`` is on the last page instead of null, e.g. ``""``), ``inclusive_anchor``
    (a cursor's page starts with its anchor row, the previous page's last row, again), ``exclusive_bounds``
    (``start`` and ``end`` exclusive; inclusive otherwise)."""

    def __init__(self, rows: list[dict[str, Any]], other: str = "", **faults: Any) -> None:
        self.seq = itertools.count()
        self.rows = [(r["timestamp"], next(self.seq), r) for r in rows]
        self.faults, self.other = faults, other
        self.requests = self.cursor_requests = self.rejected = self.empty = 0
        self.nonce = itertools.count()

    def truth(self) -> list[dict[str, Any]]:
        return [r for _, _, r in self.rows]

    def _ordered(self) -> list[tuple[int, int, dict]]:
        return sorted(self.rows, key=lambda t: (t[0], t[1]), reverse=not self.faults.get("oldest_first"))

    def get(self, params: dict[str, Any]) -> dict[str, Any]:
        self.requests += 1
        f = self.faults
        assert "offset" not in params
        cursor = params.get("cursor")
        if cursor:
            self.cursor_requests += 1
            times = f.get("reject_times", 1)
            due = f.get("reject_cursor_at") and self.cursor_requests >= f["reject_cursor_at"]
            if due and (times is None or self.rejected < times):
                self.rejected += 1
                raise ApiError(400, "cursor")
            if self.empty < f.get("empty_pages", 0):
                self.empty += 1
                return {"data": [], "pagination": {"next_cursor": cursor, "has_more": True}}
            if f.get("ignore_cursor"):
                cursor = None
        start, end, limit = params["start"], params["end"], params["limit"]
        if f.get("exclusive_bounds"):
            start, end = start + 1, end - 1
        ordered = [t for t in self._ordered() if t[0] >= start and (f.get("ignore_end") or t[0] <= end)]
        if cursor:
            anchor = tuple(int(x) for x in cursor.split(":")[:2])
            if f.get("inclusive_anchor"):
                after = (lambda t: (t[0], t[1]) >= anchor) if f.get("oldest_first") else (lambda t: (t[0], t[1]) <= anchor)
            else:
                after = (lambda t: (t[0], t[1]) > anchor) if f.get("oldest_first") else (lambda t: (t[0], t[1]) < anchor)
            ordered = [t for t in ordered if after(t)]
        page, more = ordered[:limit], len(ordered) > limit
        if f.get("no_cursor_at") == self.requests:
            return {"data": [r for _, _, r in page], "pagination": {"next_cursor": None, "has_more": True}}
        next_cursor = f.get("end_cursor")
        if more:
            next_cursor = f"{page[-1][0]}:{page[-1][1]}"
            if f.get("nonce"):
                next_cursor += f":{next(self.nonce)}"
        data = [r for _, _, r in page]
        if f.get("foreign_from") is not None and self.requests >= f["foreign_from"]:
            data = [dict(r, proxy_wallet=self.other) if i % 2 else r for i, r in enumerate(data)]
        if f.get("arrive") and page and self.requests <= f.get("arrive_times", 10**9):
            anchor_ts, newest = page[-1][0], max(t[0] for t in self.rows)
            for ts in (anchor_ts, newest + 1, anchor_ts - 1):
                row = dict(page[-1][2], timestamp=ts, transaction_hash=f"0xarrived{self.requests}-{ts}")
                self.rows.append((ts, next(self.seq), row))
        return {"data": data, "pagination": {"next_cursor": next_cursor, "has_more": more}}


def walk(pager: Any, api: FakeV2Api, max_requests: int = 10_000) -> list[list[dict[str, Any]]]:
    """Drive ``pager`` as the fetch loop does (errors through ``rejected``, the progress guard); the
    batches of rows it handed over, in order."""
    guard = ProgressGuard(pager)
    handed: list[list[dict[str, Any]]] = []
    while (request := pager.next_request()) is not None:
        assert api.requests < max_requests, "the walk does not end"
        try:
            body = api.get(request.params)
        except ApiError as exc:
            if not pager.rejected(exc):
                raise
            guard.check(request, str(exc))
            continue
        fed = pager.feed(body)
        guard.check(request, body)
        handed.append(fed.rows)
    return handed
