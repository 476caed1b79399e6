"""The pagers against a small in-memory Data API / CLOB that misbehaves as users report (pure logic).

Each test drives a pager to the end and compares the multiset of rows it handed over with the truth:
a fault must either be survived exactly or end in a PagingError (never wrong rows).
"""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

import pytest

from clob_pipeline.errors import is_retryable
from clob_pipeline.fills.pagers import (
    CLOB_END_CURSOR,
    MAX_STALLS,
    ClobPager,
    DataApiPager,
    ForeignRowsError,
    PagingError,
    ProgressGuard,
    UnexpectedResponseError,
)

W = "0x" + "ab" * 20
OTHER = "0x" + "cd" * 20


def fill(ts: int, n: int = 0, tx: str = "0xt") -> dict[str, Any]:
    return {"proxyWallet": W, "timestamp": ts, "transactionHash": tx, "asset": "1", "side": "BUY", "size": 1.0 + n, "price": 0.5}


class FakeDataApi:
    """``/trades`` over ``rows`` (newest first) with switchable faults."""

    def __init__(self, rows: list[dict[str, Any]], **faults: Any) -> None:
        self.rows = sorted(rows, key=lambda r: -r["timestamp"])
        self.faults = faults
        self.requests = 0
        self.rng = random.Random(1)

    def get(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        self.requests += 1
        f = self.faults
        start, end, offset = params["start"], params["end"], params["offset"]
        limit = min(params["limit"], f.get("limit_max", 10**9))
        if f.get("offset_ignored_after") is not None and offset >= f["offset_ignored_after"]:
            offset = 0
        rows = [
            r
            for r in self.rows
            if (r["timestamp"] > start if f.get("start_exclusive") else r["timestamp"] >= start)
            and (f.get("ignore_end") or (r["timestamp"] < end if f.get("end_exclusive") else r["timestamp"] <= end))
        ]
        if f.get("shuffle_ties"):
            groups: dict[int, list] = {}
            for r in rows:
                groups.setdefault(r["timestamp"], []).append(r)
            rows = []
            for ts in sorted(groups, reverse=True):
                group = groups[ts][:]
                self.rng.shuffle(group)
                rows += group
        page = rows[offset : offset + limit]
        if f.get("foreign_from") is not None and self.requests >= f["foreign_from"]:  # the user filter dropped
            page = [dict(r, proxyWallet=OTHER) if i % 2 else r for i, r in enumerate(page)]
        if f.get("shift_rows"):  # fills arrive after every response: later offsets move
            newest = self.rows[0]["timestamp"] if self.rows else 0
            self.rows = [fill(newest + 1, 99, tx=f"new{self.requests}")] * f["shift_rows"] + self.rows
        return page


def drain(pager: Any, api: FakeDataApi, max_requests: int = 10_000) -> Counter:
    """Drive the pager as the fetch loop does (with its progress guard) and count the rows handed over."""
    served: Counter = Counter()
    guard = ProgressGuard(pager)
    while (request := pager.next_request()) is not None:
        assert api.requests < max_requests, "pager does not terminate"
        body = api.get(request.params)
        fed = pager.feed(body)
        guard.check(request, body)
        served.update(tuple(sorted(r.items())) for r in fed.rows)
    return served


def truth(rows: list[dict[str, Any]], lo: int = 0, hi: int = 10**12) -> Counter:
    return Counter(tuple(sorted(r.items())) for r in rows if lo <= r["timestamp"] <= hi)


def history(seconds: int = 60, per_second: int = 7) -> list[dict[str, Any]]:
    """Bursts of identical fills in many seconds, so every page boundary cuts a second."""
    return [fill(1000 + s, n % 3) for s in range(seconds) for n in range(per_second)]


def probe(api: FakeDataApi, page_size: int) -> int:
    """What ``served_page_size`` learns: the rows of one page of a busy query."""
    return len(api.get({"start": 1, "end": 10**12, "offset": 0, "limit": page_size}))


@pytest.mark.parametrize("known_size", [True, False])
@pytest.mark.parametrize(
    "faults",
    [
        {},
        {"shuffle_ties": True},
        {"limit_max": 13},
        {"end_exclusive": True},
        {"start_exclusive": True},
        {"end_exclusive": True, "start_exclusive": True, "shuffle_ties": True, "limit_max": 11},
        {"offset_ignored_after": 20},
    ],
)
def test_complete_second_paging_hands_over_exactly_the_window(faults, known_size):
    rows = history()
    api = FakeDataApi(rows, **faults)
    served = probe(api, 20) if known_size else 0
    pager = DataApiPager(W, start_s=1010, upper_s=1049, page_size=20, served_size=served)
    assert drain(pager, api) == truth(rows, 1010, 1049)
    assert pager.done


@pytest.mark.parametrize("known_size", [True, False])
def test_an_ignored_offset_on_a_wallet_spread_over_many_seconds_loads_in_few_requests(known_size):
    rows = [fill(1000 + 7 * s, s % 3) for s in range(3000)]  # one fill per second: offsets are never needed
    api = FakeDataApi(rows, offset_ignored_after=0)
    served = probe(api, 100) if known_size else 0  # unknown: the probe failed
    pager = DataApiPager(W, start_s=1, upper_s=10**6, page_size=100, served_size=served)
    assert drain(pager, api, max_requests=3 * 3000 // 100) == truth(rows)


def test_a_lone_second_with_ignored_offsets_ends_within_a_bounded_number_of_requests():
    rows = [fill(1500)]  # one fill; the size is unknown, so the one-row response may be a cut second
    api = FakeDataApi(rows, offset_ignored_after=0)
    pager = DataApiPager(W, start_s=1, upper_s=2000, page_size=100)
    with pytest.raises(PagingError, match="cannot serve second"):
        drain(pager, api, max_requests=2 * pager.max_burst_pages + 5)


def test_a_row_of_another_wallet_fails_the_walk_and_is_never_handed_over():
    rows = history(seconds=40)
    api = FakeDataApi(rows, foreign_from=3)
    pager = DataApiPager(W, start_s=1, upper_s=2000, page_size=20)
    handed: Counter = Counter()
    with pytest.raises(ForeignRowsError, match=f"other wallets .*{OTHER} x") as err:
        while (request := pager.next_request()) is not None:
            handed.update(tuple(sorted(r.items())) for r in pager.feed(api.get(request.params)).rows)
    assert "None of these rows is stored" in str(err.value) and not is_retryable(err.value)
    assert handed and not handed - truth(rows)  # only this wallet's own fills, from the pages before
    assert all(dict(r)["proxyWallet"] == W for r in handed)


def test_a_walk_that_never_moves_fails_after_a_bounded_number_of_responses():
    pager = ClobPager(W, start_s=1, upper_s=1000)
    guard = ProgressGuard(pager)
    responses = 0
    with pytest.raises(PagingError, match=r"responses in a row did not move the walk forward.*0 rows"):
        while (request := pager.next_request()) is not None:  # empty pages, each with a new cursor, for ever
            responses += 1
            assert responses < 100, "the guard let the walk go on"
            body = {"data": [], "next_cursor": f"c{responses}"}
            pager.feed(body)
            guard.check(request, body)
    assert responses == MAX_STALLS + 1


def test_rows_arriving_while_paging_are_not_taken_twice():
    rows = history()
    api = FakeDataApi(rows, shift_rows=4)
    pager = DataApiPager(W, start_s=1, upper_s=1059, page_size=20)
    assert drain(pager, api) == truth(rows)  # the new fills are newer than the window's end


def test_an_ignored_end_fails_loudly_before_keeping_a_row():
    rows = history()
    api = FakeDataApi(rows, ignore_end=True)
    pager = DataApiPager(W, start_s=1, upper_s=1030, page_size=20)
    with pytest.raises(PagingError, match="ignored end"):
        drain(pager, api)


def test_a_short_page_is_not_the_end_when_the_limit_is_clamped():
    rows = history(seconds=100, per_second=5)
    api = FakeDataApi(rows, limit_max=50)
    pager = DataApiPager(W, start_s=1, upper_s=2000, page_size=500, served_size=probe(api, 500))
    assert pager.served_size == 50
    assert drain(pager, api) == truth(rows)


def test_a_page_shorter_than_the_served_size_is_the_whole_window():
    rows = history(seconds=3, per_second=2)
    api = FakeDataApi(rows)
    pager = DataApiPager(W, start_s=1, upper_s=2000, page_size=100, served_size=100)
    assert drain(pager, api) == truth(rows)
    assert api.requests == 1


def test_with_the_served_size_unknown_only_an_empty_response_ends_the_window():
    rows = history(seconds=3, per_second=2)
    api = FakeDataApi(rows)
    pager = DataApiPager(W, start_s=1, upper_s=2000, page_size=100)
    assert drain(pager, api) == truth(rows)
    assert api.requests > 1


@pytest.mark.parametrize("known_size", [True, False])
def test_a_second_larger_than_a_page_is_read_by_offset_twice(known_size):
    burst = [fill(1500, n % 4) for n in range(95)]  # a pattern that repeats every 4 rows: pages repeat
    rows = history(seconds=5) + burst + [fill(1499, 1), fill(1501, 2)]
    api = FakeDataApi(rows)
    pager = DataApiPager(W, start_s=1, upper_s=2000, page_size=20, served_size=20 if known_size else 0)
    assert drain(pager, api) == truth(rows)


@pytest.mark.parametrize("faults", [{"shuffle_ties": True}, {"offset_ignored_after": 40}])
def test_an_oversized_second_the_api_cannot_serve_fails_naming_it(faults):
    burst = [fill(1500, n % 4) for n in range(95)]
    rows = burst + [fill(1501, 1)]
    api = FakeDataApi(rows, **faults)
    pager = DataApiPager(W, start_s=1, upper_s=2000, page_size=20)
    served: Counter = Counter()
    with pytest.raises(PagingError, match=r"cannot serve second 1970-01-01T00:25:00Z completely") as err:
        while (request := pager.next_request()) is not None:
            served.update(tuple(sorted(r.items())) for r in pager.feed(api.get(request.params)).rows)
    assert "none of them is stored" in str(err.value)
    assert served == truth(rows, 1501)  # only the complete seconds above it were handed over


def test_an_oversized_uniform_second_past_the_offset_cap_fails():
    rows = [fill(1500)] * 300
    api = FakeDataApi(rows, offset_ignored_after=100)
    pager = DataApiPager(W, start_s=1, upper_s=2000, page_size=50, offset_cap=250)
    with pytest.raises(PagingError, match="offset cap"):
        drain(pager, api)


def test_resume_point_only_moves_past_handed_over_seconds():
    rows = history(seconds=30)
    api = FakeDataApi(rows)
    pager = DataApiPager(W, start_s=1, upper_s=2000, page_size=20)
    handed: list[int] = []
    while (request := pager.next_request()) is not None:
        fed = pager.feed(api.get(request.params))
        handed += [r["timestamp"] for r in fed.rows]
        assert all(ts > fed.resume for ts in handed)
        resumed = DataApiPager(W, start_s=1, upper_s=fed.resume, page_size=20)
        assert drain(resumed, FakeDataApi(rows)) == truth(rows, 1, fed.resume)


def clob_trade(i: int, ts: int) -> dict[str, Any]:
    return {"id": f"t{i}", "match_time": str(ts)}


def test_clob_pager_buffers_windows_and_drops_repeats():
    trades = [clob_trade(i, 1_000_000 - i * 50_000) for i in range(12)]
    pages = {}

    def serve(params: dict[str, Any]) -> dict[str, Any]:
        inside = [t for t in trades if params["after"] <= int(t["match_time"]) <= params["before"]]
        offset = int(params["next_cursor"] == "MA==" and "0" or pages[params["next_cursor"]])
        page = inside[max(0, offset - 1) : offset + 2]  # every page repeats the previous page's last trade
        nxt = offset + 2
        cursor = CLOB_END_CURSOR if nxt >= len(inside) else f"c{nxt}"
        pages[cursor] = nxt
        return {"data": page, "next_cursor": cursor}

    pager = ClobPager(W, start_s=1, upper_s=1_000_000, span_s=200_000)
    seen: list[str] = []
    while (request := pager.next_request()) is not None:
        seen += [t["id"] for t in pager.feed(serve(request.params)).rows]
    assert sorted(seen) == sorted(t["id"] for t in trades)


def test_clob_pager_refuses_a_cursor_that_does_not_move():
    pager = ClobPager(W, start_s=1, upper_s=1000)
    pager.feed({"data": [clob_trade(1, 500)], "next_cursor": "MTAw"})
    with pytest.raises(PagingError, match="same cursor|already"):
        pager.feed({"data": [clob_trade(2, 400)], "next_cursor": "MTAw"})


@pytest.mark.parametrize(
    ("pager", "body"),
    [
        (lambda: DataApiPager(W, start_s=1, upper_s=1000, page_size=20), {"error": "internal"}),
        (lambda: ClobPager(W, start_s=1, upper_s=1000), [{"id": "t1"}]),
    ],
    ids=["data-api", "clob"],
)
def test_a_body_that_is_not_the_page_shape_is_retried_and_stores_nothing(pager, body):
    p = pager()
    with pytest.raises(UnexpectedResponseError, match="nothing from it is stored") as err:
        p.feed(body)
    assert is_retryable(err.value)  # a passing fault of the API or a proxy: Airflow's retry reads it again


def owned_trade(i: int, ts: int, side: str, wallet: str) -> dict[str, Any]:
    """A CLOB trade where ``wallet`` is the taker (top level) or the one maker (``maker_orders``)."""
    taker, maker = (wallet, OTHER) if side == "TAKER" else (OTHER, wallet)
    return {**clob_trade(i, ts), "trader_side": side, "maker_address": taker, "maker_orders": [{"maker_address": maker}]}


@pytest.mark.parametrize("side", ["TAKER", "MAKER"])
def test_clob_trades_of_another_wallet_fail_the_walk_and_are_never_handed_over(side):
    """``maker_address`` not applied (or another account's key): the key owner's trades come back for W."""
    stranger = "0x" + "ef" * 20
    pager = ClobPager(W, start_s=1, upper_s=1000)
    mine = [owned_trade(1, 900, "TAKER", W.upper().replace("0X", "0x")), owned_trade(2, 800, "MAKER", W)]  # any case
    pager.feed({"data": mine, "next_cursor": "MTAw"})
    with pytest.raises(ForeignRowsError, match=f"/data/trades answered 1 of 2 rows for other wallets .*{side} {stranger}"):
        last = [owned_trade(3, 700, "TAKER", W), owned_trade(4, 600, side, stranger)]
        pager.feed({"data": last, "next_cursor": CLOB_END_CURSOR})
