"""The emulator's Data API v2 ``/v2/trades`` follows the documented contract (§3.3, §3.6), and each of its
faults does what it says, over real HTTP. The loader tests trust both."""

from __future__ import annotations

import urllib.parse
from collections import Counter
from typing import Any

from test_emulator import get

BASE = {"taker_only": "false", "start": 1}


def page(emu, wallet: str | None = None, **params: Any) -> tuple[int, dict[str, str], Any]:
    query = {"user": wallet or emu.dataset.wallets[0], **BASE, **params}
    return get(f"{emu.url}/v2/trades?{urllib.parse.urlencode(query)}")


def walk(emu, wallet: str | None = None, **params: Any) -> list[dict[str, Any]]:
    """Every page of one walk, following next_cursor with the same filters."""
    rows: list[dict[str, Any]] = []
    cursor = None
    while True:
        status, _, body = page(emu, wallet, **params, **({"cursor": cursor} if cursor else {}))
        assert status == 200, body
        assert body["pagination"]["has_more"] == (body["pagination"]["next_cursor"] is not None)
        rows += body["data"]
        cursor = body["pagination"]["next_cursor"]
        if cursor is None:
            return rows


def content(row: dict[str, Any]) -> tuple:
    return (row["transaction_hash"], row["token_id"], row["side"], row["size"], row["price"], row["timestamp"])


def truth(emu, wallet: str | None = None) -> Counter:
    fills = emu.dataset.visible_fills(wallet or emu.dataset.wallets[0])
    return Counter((f.tx, f.asset, f.side, f.size, f.price, f.ts) for f in fills)


def test_a_walk_serves_every_fill_once_newest_first_in_snake_case(emulator):
    rows = walk(emulator, limit=40)
    assert Counter(map(content, rows)) == truth(emulator)
    assert [r["timestamp"] for r in rows] == sorted((r["timestamp"] for r in rows), reverse=True)
    assert {"proxy_wallet", "token_id", "condition_id", "outcome_index", "transaction_hash"} <= set(rows[0])
    assert "asset" not in rows[0] and "proxyWallet" not in rows[0]
    takers = walk(emulator, limit=40, taker_only="true")
    assert 0 < len(takers) < len(rows)


def test_errors_name_their_parameter_in_the_documented_body(emulator):
    for params, parameter in (({"offset": 10}, "offset"), ({"limit": 1001}, "limit"), ({"cursor": "forged.0000"}, "cursor")):
        status, _, body = page(emulator, **params)
        assert status == 400 and body["parameter"] == parameter
        assert set(body) == {"error", "code", "retryable", "trace_id", "parameter"} and body["retryable"] is False


def test_the_cursor_carries_the_page_size_and_a_limit_sent_with_it_is_ignored(emulator):
    _, _, first = page(emulator, limit=25)
    cursor = first["pagination"]["next_cursor"]
    _, _, second = page(emulator, limit=3, cursor=cursor)
    assert len(first["data"]) == len(second["data"]) == 25
    assert second["pagination"]["offset"] == 25  # display only


def test_fills_below_the_minimum_size_are_never_served(emulator):
    wallet = emulator.dataset.wallets[0]
    tiny = emulator.dataset.visible_fills(wallet)[5]._replace(size=0.004, tx="0x" + "ee" * 32)
    emulator.dataset._merge(wallet, [tiny])
    for amount in ("0", "0.001", None):
        rows = walk(emulator, limit=100, **({"filter_amount": amount} if amount else {}))
        assert "0x" + "ee" * 32 not in {r["transaction_hash"] for r in rows}
    v1 = get(f"{emulator.url}/trades?user={wallet}&takerOnly=false&start=1&limit=10000")[2]
    assert "0x" + "ee" * 32 in {r["transactionHash"] for r in v1}  # v1 serves it


def test_fills_arriving_during_a_walk_do_not_move_it(emulator):
    """The documented stability: newer than the anchor -> only the next walk; older -> this walk."""
    emulator.post("/__emulator/paging", {"v2_arrive": 1, "v2_arrive_times": 3})
    before = truth(emulator)
    rows = walk(emulator, limit=30)
    served = Counter(map(content, rows))
    assert sum(served.values()) == len(rows)  # nothing served twice
    assert before <= served <= truth(emulator)  # every fill there at the start, and only real fills
    assert truth(emulator) - served  # the ones newer than the anchor wait for the next walk
    assert served - before  # the ones older than the anchor came in this walk
    assert Counter(map(content, walk(emulator, limit=30))) == truth(emulator)


def test_each_fault_behaves_as_described(emulator):
    full = walk(emulator, limit=30)
    emulator.post("/__emulator/paging", {"v2_empty_pages": 2})
    _, _, first = page(emulator, limit=30)
    cursor = first["pagination"]["next_cursor"]
    for _ in range(2):
        _, _, empty = page(emulator, cursor=cursor)
        assert empty["data"] == [] and empty["pagination"] == {**empty["pagination"], "has_more": True, "next_cursor": cursor}
    assert page(emulator, cursor=cursor)[2]["data"] == full[30:60]

    emulator.post("/__emulator/paging", {"v2_reject_cursor_at": 2})
    assert page(emulator, cursor=cursor)[0] == 200
    status, _, body = page(emulator, cursor=cursor)
    assert status == 400 and body["parameter"] == "cursor" and page(emulator, cursor=cursor)[0] == 200  # once

    emulator.post("/__emulator/paging", {"v2_ignore_cursor": True})
    assert page(emulator, cursor=cursor)[2] == {**first, "data": first["data"]}  # the first page again, same cursor

    emulator.post("/__emulator/paging", {"v2_inclusive_anchor": True})
    assert page(emulator, cursor=cursor)[2]["data"] == full[29:59]  # the anchor (the last row served) again, then on
    inclusive = walk(emulator, limit=30)
    assert len(inclusive) == len(full) + (len(full) - 2) // 29  # one repeated row per page boundary
    assert Counter(map(content, full)) < Counter(map(content, inclusive))  # every fill, and the repeats on top

    other = emulator.dataset.wallets[1]
    emulator.post("/__emulator/paging", {"drop_user_filter": emulator.dataset.wallets[0]})
    wallets = {r["proxy_wallet"] for r in page(emulator, limit=200)[2]["data"]}
    assert other in wallets and emulator.dataset.wallets[0] in wallets
    assert {r["proxy_wallet"] for r in page(emulator, other, limit=200)[2]["data"]} == {other}


def test_429_and_503_carry_retry_after_and_the_v2_body(emulator):
    emulator.post("/__emulator/faults", [{"path": "/v2/trades", "status": s, "retry_after": 2} for s in (429, 503)])
    for expected in (429, 503):
        status, headers, body = page(emulator)
        assert status == expected and float(headers["Retry-After"]) == 2 and body["retryable"] is True
