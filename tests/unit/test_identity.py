"""A fill's id is its content and its rank among identical fills of its second, whatever the source.

Expected ids are computed here with ``hashlib`` from the documented message, never by the module
under test: ``blake2b(f"{wallet}|{tx}|{asset}|{side}|{size_micro}|{price_micro}|{timestamp_ms}|{rank}", 16)``.
"""

from __future__ import annotations

import hashlib
import random
from collections import Counter
from typing import Any

import pyarrow as pa
import pytest
from api_rows import EOA, WALLET
from api_rows import data_api_row as row

from clob_pipeline.fills.arrow import fills_to_arrow
from clob_pipeline.fills.columnar import page_table
from clob_pipeline.fills.identity import with_identity
from clob_pipeline.fills.normalize import ClobFillNormalizer, DataApiFillNormalizer

TX = "0x" + "ee" * 32  # row()'s transactionHash, lower-cased
ASSET = "123456789"
TS_MS = 1_700_000_000_000


def expected_id(wallet: str, tx: str, asset: str, side: str, size_micro: int, price_micro: int, ts_ms: int, rank: int) -> str:
    message = f"{wallet}|{tx}|{asset}|{side}|{size_micro}|{price_micro}|{ts_ms}|{rank}"
    return hashlib.blake2b(message.encode(), digest_size=16).hexdigest()


def data_api(rows: list[dict], wallet: str = WALLET) -> pa.Table:
    """Through the per-row normaliser (the reference path), then identity."""
    return with_identity(fills_to_arrow(DataApiFillNormalizer(wallet, EOA).normalize_page(rows), 0))


def clob(trades: list[dict], wallet: str = WALLET) -> pa.Table:
    return with_identity(fills_to_arrow(ClobFillNormalizer(wallet, EOA).normalize_page(trades), 0))


def ids(table: pa.Table) -> list[str]:
    return table["fill_id"].to_pylist()


# --- (a) the documented formula -------------------------------------------------------------


def test_ids_are_the_blake2b_of_the_documented_message():
    rows = [
        row(),
        row(price=0.58, side="SELL"),
        row(size=3, asset="42", timestamp=1_700_000_000_123),
        row(transactionHash="0x" + "0A" * 32, price="0.1234565"),
    ]
    expected = [
        expected_id(WALLET, TX, ASSET, "BUY", 12_500_000, 570_000, TS_MS, 0),
        expected_id(WALLET, TX, ASSET, "SELL", 12_500_000, 580_000, TS_MS, 0),
        expected_id(WALLET, TX, "42", "BUY", 3_000_000, 570_000, 1_700_000_000_123, 0),
        expected_id(WALLET, "0x" + "0a" * 32, ASSET, "BUY", 12_500_000, 123_456, TS_MS, 0),
    ]
    assert ids(data_api(rows)) == expected
    assert ids(page_table(DataApiFillNormalizer(WALLET, EOA), rows)) == expected
    assert ids(page_table(DataApiFillNormalizer(WALLET, EOA), rows[:3])) == expected[:3]  # the fast path


def test_the_id_depends_on_the_wallet():
    other = "0x" + "01" * 20
    [fill_id] = ids(data_api([row()], wallet=other))
    assert fill_id == expected_id(other, TX, ASSET, "BUY", 12_500_000, 570_000, TS_MS, 0)
    assert fill_id != ids(data_api([row()]))[0]


def test_an_empty_batch_stays_empty():
    assert data_api([]).num_rows == 0


# --- (b) ranks and copies --------------------------------------------------------------------


def test_identical_rows_get_ranks_and_copies_and_distinct_rows_rank_zero():
    rows = [row(), row(price=0.58), row(), row(side="SELL"), row(), row(timestamp=1_700_000_001)]
    table = data_api(rows)
    assert table["copies"].to_pylist() == [3, 1, 3, 1, 3, 1]
    same = [expected_id(WALLET, TX, ASSET, "BUY", 12_500_000, 570_000, TS_MS, rank) for rank in range(3)]
    got = ids(table)
    assert sorted(got[i] for i in (0, 2, 4)) == sorted(same)
    assert got[1] == expected_id(WALLET, TX, ASSET, "BUY", 12_500_000, 580_000, TS_MS, 0)
    assert got[3] == expected_id(WALLET, TX, ASSET, "SELL", 12_500_000, 570_000, TS_MS, 0)
    assert got[5] == expected_id(WALLET, TX, ASSET, "BUY", 12_500_000, 570_000, TS_MS + 1000, 0)
    assert len(set(got)) == len(rows)


def test_fields_outside_the_content_do_not_split_a_group():
    """condition id, outcome and outcome index are not part of the content."""
    table = data_api([row(), row(outcome="No", outcomeIndex=1, conditionId="0x" + "33" * 32)])
    assert table["copies"].to_pylist() == [2, 2]
    assert sorted(ids(table)) == sorted(expected_id(WALLET, TX, ASSET, "BUY", 12_500_000, 570_000, TS_MS, r) for r in (0, 1))


@pytest.mark.parametrize("k", [2, 5, 40])
def test_k_copies_get_ranks_zero_to_k_minus_one(k):
    table = data_api([row()] * k)
    assert table["copies"].to_pylist() == [k] * k
    assert sorted(ids(table)) == sorted(expected_id(WALLET, TX, ASSET, "BUY", 12_500_000, 570_000, TS_MS, r) for r in range(k))


# --- (c) order does not matter ---------------------------------------------------------------


def test_the_same_multiset_in_any_order_gives_the_same_ids():
    rows = [row()] * 4 + [row(price=0.58)] * 2 + [row(side="SELL"), row(timestamp=1_700_000_001)] * 3
    reference = Counter(zip(ids(data_api(rows)), data_api(rows)["copies"].to_pylist()))
    assert len(reference) == len(rows)
    rng = random.Random(1)
    for _ in range(20):
        shuffled = rows[:]
        rng.shuffle(shuffled)
        for table in (data_api(shuffled), page_table(DataApiFillNormalizer(WALLET, EOA), shuffled)):
            assert Counter(zip(ids(table), table["copies"].to_pylist())) == reference


# --- CLOB trades, built as the emulator's ``clob_trades`` builds them ------------------------

OTHER = "0x" + "99" * 20


def _order(order_id: str, owner: str, maker: str, *, side: str | None, size: str, price: str, asset: str) -> dict[str, Any]:
    """A ``maker_orders`` entry (``side`` None: left out, as the API may leave it out)."""
    order = {"order_id": order_id, "owner": owner, "maker_address": maker, "matched_amount": size, "price": price,
             "fee_rate_bps": "0", "asset_id": asset, "outcome": "Yes"}  # fmt: skip
    return order if side is None else {**order, "side": side}


def _trade(trade_id: str, *, trader_side: str, taker: str, taker_side: str, maker_order: dict[str, Any], size: str,
           price: str, asset: str, tx: str, ts: int) -> dict[str, Any]:  # fmt: skip
    """A CLOB trade whose top level is ``taker``'s order and whose one maker order is ``maker_order``."""
    return {
        "id": trade_id,
        "taker_order_id": "0x" + hashlib.sha256(f"t{trade_id}".encode()).hexdigest(),
        "market": "0x" + "11" * 32,
        "fee_rate_bps": "0",
        "status": "CONFIRMED",
        "match_time": str(ts),
        "last_update": str(ts + 5),
        "bucket_index": 0,
        "transaction_hash": tx,
        "asset_id": asset,
        "side": taker_side,
        "size": size,
        "price": price,
        "outcome": "Yes",
        "owner": "key-owner" if trader_side == "TAKER" else "other-key",
        "maker_address": taker,
        "trader_side": trader_side,
        "maker_orders": [maker_order],
    }


def _opposite(side: str) -> str:
    return "SELL" if side == "BUY" else "BUY"


def clob_taker(trade_id: str, *, side: str = "BUY", size: str = "12.5", price: str = "0.57", asset: str = ASSET,
               tx: str = TX, ts: int = 1_700_000_000, wallet: str = WALLET) -> dict[str, Any]:  # fmt: skip
    """A taker fill of ``wallet``: the top level describes the wallet's order."""
    order_id = "0x" + hashlib.sha256(f"m{trade_id}".encode()).hexdigest()
    maker = _order(order_id, "other-key", OTHER, side=_opposite(side), size=size, price=price, asset=asset)
    return _trade(trade_id, trader_side="TAKER", taker=wallet, taker_side=side, maker_order=maker, size=size, price=price,
                  asset=asset, tx=tx, ts=ts)  # fmt: skip


def clob_maker(trade_id: str, order_id: str, *, side: str = "BUY", size: str = "12.5", price: str = "0.57",
               asset: str = ASSET, tx: str = TX, ts: int = 1_700_000_000, wallet: str = WALLET) -> dict[str, Any]:  # fmt: skip
    """A maker fill of ``wallet`` (its order ``side``): the top level is the other party's taker order."""
    maker = _order(order_id, "key-owner", wallet, side=None, size=size, price=price, asset=asset)
    return _trade(trade_id, trader_side="MAKER", taker=OTHER, taker_side=_opposite(side), maker_order=maker, size=size,
                  price=price, asset=asset, tx=tx, ts=ts)  # fmt: skip


# --- (d) CLOB fills rank by trade id and maker order id --------------------------------------


def by_trade(table: pa.Table) -> dict[tuple[str, str], str]:
    keys = zip(table["trade_id"].to_pylist(), table["maker_order_id"].to_pylist())
    return dict(zip(keys, ids(table)))


def test_identical_clob_fills_rank_by_trade_id_whatever_their_order():
    trades = [clob_taker(f"t{i}") for i in (3, 1, 4, 0, 2)] + [clob_taker("t9", price="0.58")]
    first = clob(trades)
    assert first["copies"].to_pylist() == [5, 5, 5, 5, 5, 1]
    expected = {(f"t{i}", ""): expected_id(WALLET, TX, ASSET, "BUY", 12_500_000, 570_000, TS_MS, i) for i in range(5)} | {
        ("t9", ""): expected_id(WALLET, TX, ASSET, "BUY", 12_500_000, 580_000, TS_MS, 0)
    }
    assert by_trade(first) == expected  # rank = position of the trade id in sorted order
    rng = random.Random(2)
    for _ in range(10):
        shuffled = trades[:]
        rng.shuffle(shuffled)
        assert by_trade(clob(shuffled)) == expected


def test_identical_maker_fills_of_one_trade_rank_by_maker_order_id():
    trade = clob_maker("t1", "0xb")
    trade["maker_orders"] = [{**trade["maker_orders"][0], "order_id": o} for o in ("0xc", "0xa", "0xb")]
    table = clob([trade])
    assert table["copies"].to_pylist() == [3, 3, 3]
    rank = {"0xa": 0, "0xb": 1, "0xc": 2}
    expected = {("t1", o): expected_id(WALLET, TX, ASSET, "BUY", 12_500_000, 570_000, TS_MS, r) for o, r in rank.items()}
    assert by_trade(table) == expected
    trade["maker_orders"] = trade["maker_orders"][::-1]
    assert by_trade(clob([trade])) == expected


def test_a_status_change_keeps_the_clob_fill_id():
    matched = {**clob_taker("t1"), "status": "", "last_update": "1700000001"}  # MATCHED is held back (§7)
    confirmed = {**clob_taker("t1"), "last_update": "1700000300"}
    assert ids(clob([matched])) == ids(clob([confirmed]))
    assert clob([matched])["version"].to_pylist() < clob([confirmed])["version"].to_pylist()


# --- (e) one fill, either source, one id -----------------------------------------------------


@pytest.mark.parametrize("side", ["BUY", "SELL"])
@pytest.mark.parametrize("maker", [False, True])
def test_a_fill_read_through_either_source_gets_the_same_id(side, maker):
    data_row = row(side=side, size=12.5, price=0.57, transactionHash=TX.upper().replace("0X", "0x"))
    trade = clob_maker("t1", "0xorder", side=side) if maker else clob_taker("t1", side=side)
    via_clob = clob([trade])
    assert via_clob["side"].to_pylist() == [side]
    assert via_clob["maker_order_id"].to_pylist() == (["0xorder"] if maker else [""])
    expected = [expected_id(WALLET, TX, ASSET, side, 12_500_000, 570_000, TS_MS, 0)]
    assert ids(via_clob) == expected
    assert ids(data_api([data_row])) == expected
    assert ids(page_table(DataApiFillNormalizer(WALLET, EOA), [data_row])) == expected


def test_identical_fills_of_mixed_roles_get_the_same_ids_through_either_source():
    """Three identical fills (two as taker, one as maker) and one other: one multiset of ids."""
    rows = [row(), row(), row(), row(side="SELL", price=0.1)]
    trades = [
        clob_taker("x-2"),
        clob_maker("x-1", "0xo1"),
        clob_taker("y-1", side="SELL", price="0.1"),
        clob_taker("x-3"),
    ]
    via_clob, via_data_api = clob(trades), data_api(rows)
    assert Counter(ids(via_clob)) == Counter(ids(via_data_api))
    assert sorted(via_clob["copies"].to_pylist()) == sorted(via_data_api["copies"].to_pylist()) == [1, 3, 3, 3]


def test_the_emulators_sources_give_one_set_of_ids():
    """The whole emulated history of the CLOB key owner, bursts of identical fills included."""
    from polymarket_emulator.dataset import build_dataset
    from polymarket_emulator.server import ClobCredentials, clob_trades, data_api_row

    dataset = build_dataset(wallets=1, fills_per_wallet=500, late_fraction=0, burst_fills=30, burst_distinct=3)
    wallet = dataset.wallets[0]
    fills = dataset.visible_fills(wallet)
    creds = ClobCredentials(address=OTHER, api_key="k", secret="s", passphrase="p", funder=wallet)
    via_data_api = page_table(DataApiFillNormalizer(wallet, EOA), [data_api_row(f) for f in fills])
    via_clob = page_table(ClobFillNormalizer(wallet, EOA), clob_trades(fills, creds))
    assert via_clob.num_rows == via_data_api.num_rows == len(fills)
    assert max(via_clob["copies"].to_pylist()) > 1
    assert Counter(ids(via_clob)) == Counter(ids(via_data_api))
    assert len(set(ids(via_clob))) == len(fills)


# --- (f) ids of earlier versions stay valid --------------------------------------------------


def test_data_api_ids_from_the_old_formula_are_unchanged():
    """Pinned ids from the per-stream occurrence formula (commit 66ef3aa), which equals rank 0 for
    a lone fill and rank k for the k-th copy of a second read whole."""
    rows = [row(), row(), row(price=0.58, side="SELL", timestamp=1_700_000_000_123)]
    old = ["3e3505782c78ef2b030d5cb3d67c0856", "c9c0c88e5e07a2dcc898cabfad43abc1", "6f74d87f71bc8e0d3881ec7a82a1125a"]
    assert old[0] == expected_id(WALLET, TX, ASSET, "BUY", 12_500_000, 570_000, TS_MS, 0)
    assert old[1] == expected_id(WALLET, TX, ASSET, "BUY", 12_500_000, 570_000, TS_MS, 1)
    assert old[2] == expected_id(WALLET, TX, ASSET, "SELL", 12_500_000, 580_000, 1_700_000_000_123, 0)
    assert ids(data_api([rows[0]])) == old[:1]
    assert sorted(ids(data_api(rows))) == sorted(old)
    assert sorted(ids(page_table(DataApiFillNormalizer(WALLET, EOA), rows))) == sorted(old)
