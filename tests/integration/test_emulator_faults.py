"""The emulator's paging faults and bursts, over real HTTP: each behaves as reported, and each is off by default.

The loader tests trust these behaviours to be what ``polymarket-api.md`` §3.5 describes, so each test
shows the raw behaviour a client sees.
"""

from __future__ import annotations

import base64
import time
import urllib.parse
from collections import Counter
from dataclasses import asdict
from typing import Any

import pytest
from conftest import ANCHOR_S
from test_emulator import get, signed

from polymarket_emulator import Paging

BURST_TS = ANCHOR_S - 100 * 86_400  # mid-history: pages of ordinary fills come before the burst


@pytest.fixture()
def emu(emulator_factory):
    """Two wallets; the first (the CLOB key owner) also holds a 1,500-fill burst in one second."""
    return emulator_factory(wallets=2, proxy_users=1, fills_per_wallet=150, rate_scale=0, burst_fills=1500, burst_ts=BURST_TS)


def trades(emu, wallet: str | None = None, **params: Any) -> list[dict[str, Any]]:
    """One Data API ``/trades`` response (maker fills included, full history); asserts a 200."""
    query = {"user": wallet or emu.dataset.wallets[0], "takerOnly": "false", "start": 1, **params}
    status, _, rows = get(f"{emu.url}/trades?{urllib.parse.urlencode(query)}")
    assert status == 200, rows
    return rows


def content(row: dict[str, Any]) -> tuple:
    return (row["transactionHash"], row["asset"], row["side"], row["size"], row["price"], row["timestamp"])


def truth(emu, wallet: str | None = None) -> Counter:
    return Counter(
        (f.tx, f.asset, f.side, f.size, f.price, f.ts) for f in emu.dataset.visible_fills(wallet or emu.dataset.wallets[0])
    )


def set_paging(emu, **settings: Any) -> dict[str, Any]:
    return emu.post("/__emulator/paging", settings)


def test_paging_faults_are_off_by_default(emu):
    status, _, settings = get(f"{emu.url}/__emulator/paging")
    assert status == 200 and settings == asdict(Paging())
    before = len(emu.dataset.visible_fills(emu.dataset.wallets[0]))
    full = trades(emu, limit=10_000)
    assert full == trades(emu, limit=10_000)  # same order every time, nothing arrives
    assert len(full) == before == len(emu.dataset.visible_fills(emu.dataset.wallets[0]))
    assert trades(emu, offset=1000, limit=100) == full[1000:1100]
    assert len(trades(emu, limit=1000)) == 1000
    assert get(f"{emu.url}/trades?user={emu.dataset.wallets[0]}&offset=3001")[0] == 200
    one_second = trades(emu, start=BURST_TS, end=BURST_TS, limit=10_000)  # start and end inclusive
    assert len(one_second) == 1500 and {r["timestamp"] for r in one_second} == {BURST_TS}


def test_make_server_paging_and_reset(emulator_factory):
    emu = emulator_factory(wallets=1, fills_per_wallet=50, rate_scale=0, paging={"limit_max": 5})
    assert len(trades(emu, limit=10)) == 5
    emu.post("/__emulator/reset", {})
    assert get(f"{emu.url}/__emulator/paging")[2] == asdict(Paging())
    assert len(trades(emu, limit=10)) == 10
    with pytest.raises(Exception, match="400"):
        set_paging(emu, no_such_fault=True)


def test_shift_rows_repeats_the_previous_pages_last_rows_and_joins_the_truth(emu):
    wallet = emu.dataset.wallets[0]
    newest, before = emu.dataset.visible_fills(wallet)[0].ts, len(emu.dataset.visible_fills(wallet))
    set_paging(emu, shift_rows=True, shift_times=2)
    first = trades(emu, limit=50)
    second = trades(emu, limit=50, offset=50)
    assert second[:3] == first[-3:]  # 3 fills arrived: every later offset moved by 3
    fills = emu.dataset.visible_fills(wallet)
    assert len(fills) == before + 6
    assert [f.ts for f in fills[:6]] == [newest + 2] * 3 + [newest + 1] * 3
    assert Counter(map(content, trades(emu, limit=10_000))) == truth(emu)  # shift_times=2: no more arrive
    assert emu.stats()["paging:shift_rows"] == 6


def test_shift_rows_takers_shift_taker_only_requests_too(emu):
    set_paging(emu, shift_rows=True, shift_by=2, shift_times=1)
    wallet = emu.dataset.wallets[1]
    first = trades(emu, wallet, takerOnly="true", limit=20)
    assert trades(emu, wallet, takerOnly="true", limit=20, offset=20)[:2] == first[-2:]


def test_shift_identical_adds_one_bot_burst_per_response(emu):
    wallet = emu.dataset.wallets[1]
    newest = emu.dataset.visible_fills(wallet)[0].ts
    set_paging(emu, shift_rows=True, shift_by=4, shift_identical=True)
    trades(emu, wallet, limit=1)
    fills = emu.dataset.visible_fills(wallet)
    assert len(set(fills[:4])) == 1 and fills[0].ts == newest + 1 and fills[4].ts == newest


def test_shift_ts_now(emu):
    wallet = emu.dataset.wallets[1]
    set_paging(emu, shift_rows=True, shift_ts="now")
    started = int(time.time())
    trades(emu, wallet, limit=1)
    assert started <= emu.dataset.visible_fills(wallet)[0].ts <= time.time()
    assert get(f"{emu.url}/__emulator/paging")[2]["shift_ts"] == "now"


def test_shuffle_ties_reorders_each_second_but_not_the_multiset(emu):
    set_paging(emu, shuffle_ties=True, seed=1)
    first = trades(emu, start=BURST_TS, end=BURST_TS, limit=10_000)
    second = trades(emu, start=BURST_TS, end=BURST_TS, limit=10_000)
    assert [content(r) for r in first] != [content(r) for r in second]
    assert Counter(map(content, first)) == Counter(map(content, second))
    full = trades(emu, limit=10_000)
    assert [r["timestamp"] for r in full] == sorted((r["timestamp"] for r in full), reverse=True)
    set_paging(emu, shuffle_ties=True, seed=1)  # restarts the request counter: the same orders again
    assert trades(emu, start=BURST_TS, end=BURST_TS, limit=10_000) == first


def test_shuffle_ties_pages_of_one_second_lose_and_repeat_fills(emu):
    """Offset pages inside a shuffled second do not add up to the second (the issue's 2 missing, 2 twice)."""
    set_paging(emu, shuffle_ties=True, seed=3)
    window = {"start": BURST_TS, "end": BURST_TS, "limit": 100}
    paged = Counter(content(r) for offset in range(0, 1500, 100) for r in trades(emu, offset=offset, **window))
    assert sum(paged.values()) == 1500 and paged != truth_of_second(emu)


def truth_of_second(emu) -> Counter:
    return Counter({k: n for k, n in truth(emu).items() if k[-1] == BURST_TS})


def test_offset_ignored_after_serves_offset_zero_again(emu):
    set_paging(emu, offset_ignored_after=1000)
    head = trades(emu, limit=100)
    assert trades(emu, offset=1000, limit=100) == head
    assert trades(emu, offset=1200, limit=100) == head
    assert trades(emu, offset=999, limit=100) != head
    assert emu.stats()["paging:offset_ignored"] == 2


def test_offset_400_after(emu):
    set_paging(emu, offset_400_after=3000)
    wallet = emu.dataset.wallets[0]
    assert get(f"{emu.url}/trades?user={wallet}&offset=3000")[0] == 200
    status, _, body = get(f"{emu.url}/trades?user={wallet}&offset=3001")
    assert status == 400 and "3000" in body["error"]


def test_limit_max_clamps_silently_and_a_short_page_is_not_the_end(emu):
    full = trades(emu, limit=10_000)
    set_paging(emu, limit_max=500)
    assert trades(emu, limit=1000) == full[:500]
    assert trades(emu, limit=1000, offset=500) == full[500:1000]


def test_ignore_end_serves_rows_newer_than_end(emu):
    full = trades(emu, limit=10_000)
    end = full[20]["timestamp"]
    assert all(r["timestamp"] <= end for r in trades(emu, end=end, limit=10_000))
    set_paging(emu, ignore_end=True)
    assert trades(emu, end=end, limit=10_000) == full


@pytest.mark.parametrize(
    ("setting", "bound", "inclusive_check", "exclusive_check"),
    [
        ("end_exclusive", "end", lambda rows: rows[0]["timestamp"] == BURST_TS, lambda rows: rows[0]["timestamp"] < BURST_TS),
        (
            "start_exclusive",
            "start",
            lambda rows: rows[-1]["timestamp"] == BURST_TS,
            lambda rows: rows[-1]["timestamp"] > BURST_TS,
        ),
    ],
)
def test_exclusive_bounds(emu, setting, bound, inclusive_check, exclusive_check):
    assert inclusive_check(trades(emu, **{bound: BURST_TS, "limit": 10_000}))
    set_paging(emu, **{setting: True})
    assert exclusive_check(trades(emu, **{bound: BURST_TS, "limit": 10_000}))


def test_burst_one_second_few_contents_both_roles(emu):
    burst = [f for f in emu.dataset.visible_fills(emu.dataset.wallets[0]) if f.ts == BURST_TS]
    assert len(burst) == 1500 and len({f.tx for f in burst}) == 1
    assert sorted(Counter(burst).values()) == [500, 500, 500] and {f.role for f in burst} == {"taker", "maker"}
    added = emu.post("/__emulator/burst", {"wallet": 1, "fills": 40, "distinct": 2, "ts": BURST_TS})
    assert added == {"added": 40, "wallet": emu.dataset.wallets[1], "ts": BURST_TS}
    assert len(trades(emu, emu.dataset.wallets[1], start=BURST_TS, end=BURST_TS)) == 40
    with pytest.raises(Exception, match="400"):
        emu.post("/__emulator/burst", {"wallet": 99})


def clob_pages(emu, **params: Any) -> list[list[dict[str, Any]]]:
    pages, cursor = [], "MA=="
    while cursor != "LTE=":
        query = urllib.parse.urlencode({**params, "next_cursor": cursor})
        status, _, body = get(f"{emu.url}/data/trades?{query}", signed())
        assert status == 200, body
        pages.append(body["data"])
        cursor = body["next_cursor"]
    return pages


def clob_content(trade: dict[str, Any], funder: str) -> list[tuple]:
    """The funder's fills in one CLOB trade: the taker order at the top, its maker orders inside."""
    ts = int(trade["match_time"])
    if trade["trader_side"] == "TAKER":
        return [(trade["transaction_hash"], trade["asset_id"], trade["side"], float(trade["size"]), float(trade["price"]), ts)]
    maker_side = "SELL" if trade["side"] == "BUY" else "BUY"
    return [
        (trade["transaction_hash"], m["asset_id"], maker_side, float(m["matched_amount"]), float(m["price"]), ts)
        for m in trade["maker_orders"]
        if m["maker_address"] == funder
    ]


def test_clob_serves_the_same_fills_as_the_data_api(emu):
    funder = emu.server.state.clob.funder
    served = [t for page in clob_pages(emu) for t in page]
    from_clob = Counter(c for t in served for c in clob_content(t, funder))
    assert {t["trader_side"] for t in served} == {"TAKER", "MAKER"}
    assert from_clob == Counter(map(content, trades(emu, limit=10_000))) == truth(emu)


def test_clob_shift_rows_and_shuffle_ties(emu):
    set_paging(emu, shift_rows=True, shift_times=1)
    first = get(f"{emu.url}/data/trades", signed())[2]
    second = get(f"{emu.url}/data/trades?next_cursor={first['next_cursor']}", signed())[2]
    assert [t["id"] for t in second["data"][:3]] == [t["id"] for t in first["data"][-3:]]
    window = {"after": BURST_TS, "before": BURST_TS}
    set_paging(emu, shuffle_ties=True, seed=2)
    a, b = clob_pages(emu, **window), clob_pages(emu, **window)
    assert [t["id"] for t in a[0]] != [t["id"] for t in b[0]]
    set_paging(emu, shuffle_ties=True, seed=2, apply_to_clob=False)
    assert clob_pages(emu, **window) == clob_pages(emu, **window)
    assert base64.b64decode(first["next_cursor"]) == b"100"
