"""Normalising Data API rows and CLOB trades into fills: values, skipped trades, and errors naming the field.

The normalisers make content only (``fill_id`` is empty); ids are ``tests/unit/test_identity.py``'s subject.
"""

from __future__ import annotations

import pytest
from api_rows import EOA, WALLET
from api_rows import data_api_row as row

from clob_pipeline.fills.normalize import ClobFillNormalizer, DataApiFillNormalizer, MalformedFillError


def test_data_api_row_becomes_a_fill_with_exact_decimals_and_no_id_yet():
    fill = DataApiFillNormalizer(WALLET, EOA).normalize(row())
    assert fill.size == 12_500_000 and fill.price == 570_000  # micro-units, exact
    assert fill.timestamp_ms == 1_700_000_000_000
    assert fill.transaction_hash == "0x" + "ee" * 32  # lower-cased
    assert fill.condition_id == "0x" + "11" * 32
    assert (fill.proxy_wallet, fill.user_eoa, fill.source, fill.version) == (WALLET, EOA, "data_api", 0)
    assert (fill.fill_id, fill.copies, fill.trade_id, fill.maker_order_id) == ("", 0, "", "")  # identity comes later
    assert (fill.outcome, fill.outcome_index, fill.side, fill.asset) == ("Yes", 0, "BUY", "123456789")


def test_fill_fields_are_in_schema_order():
    from clob_pipeline.fills.schema import FILL_COLUMNS, Fill

    assert Fill._fields[Fill._fields.index("trade_id") + 1] == "maker_order_id"
    assert Fill._fields[Fill._fields.index("version") + 1] == "copies"
    assert tuple(f if f != "timestamp_ms" else "timestamp" for f in Fill._fields) == FILL_COLUMNS[:-1]


def test_millisecond_timestamps_are_detected_by_magnitude():
    n = DataApiFillNormalizer(WALLET, EOA)
    assert n.normalize(row(timestamp=1_700_000_000_123)).timestamp_ms == 1_700_000_000_123


def test_the_data_api_normaliser_is_stateless():
    """Identical rows give identical fills, however often and in whatever order they are read: a
    page's fills depend on that page alone, not on the pages the normaliser read before it."""
    rows = [row(), row(), row(price=0.58)]
    fresh = DataApiFillNormalizer(WALLET, EOA).normalize_page(rows)
    assert fresh[0] == fresh[1]
    used = DataApiFillNormalizer(WALLET, EOA)
    used.normalize_page([row(timestamp=1_700_000_100), row(size=3), *rows])  # earlier pages, overlapping this one
    used.normalize_page(rows[::-1])
    assert used.normalize_page(rows) == fresh
    assert used.normalize_page(rows[::-1]) == fresh[::-1]
    assert used.skipped == 0


def test_the_wallet_is_the_normalisers_not_the_rows():
    other = "0x" + "01" * 20
    assert DataApiFillNormalizer(other, EOA).normalize(row()).proxy_wallet == other


@pytest.mark.parametrize(
    ("overrides", "field", "rule"),
    [
        ({"timestamp": None}, "timestamp", "Unix seconds"),
        ({"timestamp": 0}, "timestamp", "positive"),
        ({"side": "HOLD"}, "side", "BUY or SELL"),
        ({"price": 1.5}, "price", "between 0 and 1"),
        ({"size": -1}, "size", ">= 0"),
        ({"size": "abc"}, "size", "number"),
        ({"conditionId": ""}, "conditionId", "non-empty"),
        ({"transactionHash": None}, "transactionHash", "non-empty"),
        ({"outcomeIndex": "x"}, "outcomeIndex", "integer"),
    ],
)
def test_malformed_rows_name_the_field_rule_and_value(overrides, field, rule):
    with pytest.raises(MalformedFillError) as err:
        DataApiFillNormalizer(WALLET, EOA).normalize(row(**overrides))
    assert err.value.field == field
    assert rule in str(err.value)
    assert repr(list(overrides.values())[0]) in str(err.value)


def trade(**overrides):
    base = {
        "id": "trade-1",
        "market": "0x" + "22" * 32,
        "asset_id": "111",
        "side": "BUY",
        "size": "10",
        "price": "0.4",
        "status": "TRADE_STATUS_CONFIRMED",
        "match_time": "1700000000",
        "last_update": "1700000005",
        "outcome": "Yes",
        "transaction_hash": "0xABC",
        "trader_side": "TAKER",
        "maker_orders": [],
    }
    base.update(overrides)
    return base


MAKER_ORDERS = [
    {
        "order_id": "o1",
        "maker_address": WALLET.upper().replace("0X", "0x"),
        "matched_amount": "3",
        "price": "0.6",
        "asset_id": "111",
        "outcome": "Yes",
    },
    {"order_id": "o2", "maker_address": "0x" + "99" * 20, "matched_amount": "7", "price": "0.6", "asset_id": "111"},
    {"order_id": "o3", "maker_address": WALLET, "matched_amount": "2", "price": "0.4", "asset_id": "222", "side": "BUY"},
    {"order_id": "o4", "maker_address": WALLET, "matched_amount": "1", "price": "0.6", "asset_id": "222"},
]


def test_clob_taker_trade_is_one_fill_with_the_trade_id_and_no_maker_order():
    [fill] = ClobFillNormalizer(WALLET, EOA).normalize_trade(trade())
    assert fill.fill_id == ""  # identity comes later (fills/identity.py)
    assert (fill.trade_id, fill.maker_order_id, fill.trader_side) == ("trade-1", "", "TAKER")
    assert (fill.side, fill.size, fill.price, fill.asset) == ("BUY", 10_000_000, 400_000, "111")
    assert fill.status == "CONFIRMED" and fill.version == 1_700_000_005_000
    assert (fill.transaction_hash, fill.condition_id, fill.timestamp_ms) == ("0xabc", "0x" + "22" * 32, 1_700_000_000_000)
    assert (fill.source, fill.proxy_wallet, fill.user_eoa, fill.copies) == ("clob", WALLET, EOA, 0)


def test_a_later_status_of_a_clob_trade_keeps_its_content_and_timestamp():
    """Versions of one fill share its content and so its id: the writer's time-range lookup of
    stored fills and FINAL without merging across monthly partitions both rely on it."""
    normalizer = ClobFillNormalizer(WALLET, EOA)
    [first] = normalizer.normalize_trade(trade(status="", last_update="1700000001"))  # no status: kept as served
    [confirmed] = normalizer.normalize_trade(trade(last_update="1800000000"))
    content = ("proxy_wallet", "transaction_hash", "asset", "side", "size", "price", "timestamp_ms", "trade_id")
    assert [getattr(confirmed, f) for f in content] == [getattr(first, f) for f in content]
    assert confirmed.version > first.version
    assert (first.status, confirmed.status) == ("", "CONFIRMED")


def test_clob_maker_trade_yields_only_the_wallets_maker_orders_with_their_order_ids():
    fills = ClobFillNormalizer(WALLET, EOA).normalize_trade(trade(trader_side="MAKER", maker_orders=MAKER_ORDERS))
    assert [f.maker_order_id for f in fills] == ["o1", "o3", "o4"]
    assert {(f.trade_id, f.fill_id, f.trader_side) for f in fills} == {("trade-1", "", "MAKER")}
    assert fills[0].side == "SELL"  # same token as the BUY taker -> the maker sold
    assert fills[1].side == "BUY"  # explicit side wins
    assert fills[2].side == "BUY"  # complementary token of a BUY taker -> the maker bought
    assert [(f.size, f.price, f.asset) for f in fills] == [
        (3_000_000, 600_000, "111"),
        (2_000_000, 400_000, "222"),
        (1_000_000, 600_000, "222"),
    ]


def test_clob_maker_trade_without_the_wallets_orders_yields_nothing():
    normalizer = ClobFillNormalizer(WALLET, EOA)
    assert normalizer.normalize_trade(trade(trader_side="MAKER", maker_orders=MAKER_ORDERS[1:2])) == []
    assert normalizer.skipped == 0  # not skipped: simply none of the wallet's fills


@pytest.mark.parametrize(
    "overrides",
    [
        {"transaction_hash": ""},
        {"transaction_hash": None},
        {"status": "TRADE_STATUS_FAILED"},
        {"status": "FAILED"},
        {"status": "TRADE_STATUS_RETRYING"},
        {"status": "retrying"},
        {"status": "TRADE_STATUS_FAILED", "trader_side": "MAKER", "maker_orders": MAKER_ORDERS},
    ],
)
def test_clob_trades_without_a_transaction_or_not_settled_are_skipped_and_counted(overrides):
    normalizer = ClobFillNormalizer(WALLET, EOA)
    page = [trade(id="t0"), trade(id="t1", **overrides), trade(id="t2", match_time="1700000001")]
    fills = normalizer.normalize_page(page)
    assert [f.trade_id for f in fills] == ["t0", "t2"]
    assert normalizer.skipped == 1
    normalizer.normalize_trade(trade(**overrides))
    assert normalizer.skipped == 2


@pytest.mark.parametrize(
    ("overrides", "held"),
    [({"transaction_hash": ""}, True), ({"status": "RETRYING"}, True), ({"status": "TRADE_STATUS_FAILED"}, False)],
)
def test_unsettled_clob_trades_are_held_back_from_their_oldest_match_time_and_failed_ones_dropped(overrides, held):
    normalizer = ClobFillNormalizer(WALLET, EOA)
    page = [trade(id="a", match_time="1700000500", **overrides), trade(id="b", match_time="1700000100", **overrides)]
    normalizer.normalize_page(page)
    assert (normalizer.held_back, normalizer.failed) == ((2, 0) if held else (0, 2))
    assert normalizer.held_from_ms == (1_700_000_100_000 if held else None)


@pytest.mark.parametrize(
    "reads",
    [
        # MATCHED with a hash, then the transaction failed: the trade never was a fill
        [{"status": "MATCHED", "last_update": "1700000001"}, {"status": "FAILED", "last_update": "1700000090"}],
        # MINED in tx A, reorged / failed (RETRYING), re-mined in tx B and CONFIRMED: one fill, tx B
        [
            {"status": "TRADE_STATUS_MINED", "transaction_hash": "0xA1", "last_update": "1700000002"},
            {"status": "TRADE_STATUS_RETRYING", "transaction_hash": "0xA1", "last_update": "1700000050"},
            {"status": "TRADE_STATUS_CONFIRMED", "transaction_hash": "0xB2", "last_update": "1700000100"},
        ],
    ],
)
def test_a_clob_trade_read_at_each_status_leaves_only_its_final_fill(reads):
    """polymarket-api.md §7: MATCHED (sent to the executor) and MINED (in a block, no finality) are not
    final: RETRYING means the transaction failed or was reorged and is resubmitted (another hash), FAILED
    is terminal. A fill's id is its content, transaction hash included, and the writer never deletes, so
    every fill a read hands over stays stored: an unsettled read must hand over nothing."""
    stored: set[tuple] = set()
    for overrides in reads:  # one incremental run per status the trade passes through
        for fill in ClobFillNormalizer(WALLET, EOA).normalize_trade(trade(**overrides)):
            stored.add((fill.transaction_hash, fill.asset, fill.side, fill.size, fill.price, fill.timestamp_ms))
    final = reads[-1]
    expected = (
        set()
        if final["status"].endswith("FAILED")
        else {(final["transaction_hash"].lower(), "111", "BUY", 10_000_000, 400_000, 1_700_000_000_000)}
    )
    assert stored == expected


@pytest.mark.parametrize("status", ["TRADE_STATUS_MATCHED", "TRADE_STATUS_MINED", "MINED"])
def test_matched_and_mined_clob_trades_are_held_back_until_confirmed(status):
    normalizer = ClobFillNormalizer(WALLET, EOA)
    assert normalizer.normalize_trade(trade(status=status)) == []
    assert (normalizer.held_back, normalizer.failed, normalizer.held_from_ms) == (1, 0, 1_700_000_000_000)


@pytest.mark.parametrize("status", ["TRADE_STATUS_CONFIRMED", "CONFIRMED", ""])
def test_clob_trades_with_other_statuses_are_kept(status):
    normalizer = ClobFillNormalizer(WALLET, EOA)
    assert len(normalizer.normalize_trade(trade(status=status))) == 1
    assert normalizer.skipped == 0


def test_clob_trade_without_trader_side_is_rejected():
    with pytest.raises(MalformedFillError, match="trader_side"):
        ClobFillNormalizer(WALLET, EOA).normalize_trade(trade(trader_side=None))


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"id": ""}, "id"),
        ({"match_time": "soon"}, "match_time"),
        ({"market": None}, "market"),
        ({"side": "HOLD"}, "side"),
        ({"size": "-1"}, "size"),
        ({"price": "x"}, "price"),
        ({"asset_id": ""}, "asset_id"),
    ],
)
def test_malformed_clob_trades_name_the_field(overrides, field):
    with pytest.raises(MalformedFillError) as err:
        ClobFillNormalizer(WALLET, EOA).normalize_trade(trade(**overrides))
    assert err.value.field == field


def test_a_maker_order_without_an_order_id_is_rejected():
    orders = [{**MAKER_ORDERS[0], "order_id": ""}]
    with pytest.raises(MalformedFillError) as err:
        ClobFillNormalizer(WALLET, EOA).normalize_trade(trade(trader_side="MAKER", maker_orders=orders))
    assert err.value.field == "order_id"


@pytest.mark.parametrize(
    ("value", "micro"),
    [
        (0.57, 570_000),
        (12.5, 12_500_000),
        (3, 3_000_000),
        ("0.1234565", 123_456),
        ("0.1234575", 123_458),
        (123456.78, 123_456_780_000),
    ],
)
def test_numbers_become_exact_micro_units(value, micro):
    from clob_pipeline.fills.normalize import to_micro

    assert to_micro(value) == micro


def as_v2(v1_row: dict) -> dict:
    """The same row as Data API v2 serves it (snake_case, token_id for asset)."""
    from clob_pipeline.fills.normalize import V1_FIELDS, V2_FIELDS

    names = zip(V1_FIELDS, V2_FIELDS)
    return {v2_name: v1_row[v1_name] for v1_name, v2_name in names if v1_name in v1_row}


def test_one_rule_set_gives_v1_and_v2_rows_of_a_fill_the_same_fill_on_both_paths():
    from clob_pipeline.fills.columnar import page_table
    from clob_pipeline.fills.normalize import V2_FIELDS

    v1, v2 = DataApiFillNormalizer(WALLET, EOA), DataApiFillNormalizer(WALLET, EOA, V2_FIELDS)
    rows = [row(), row(side="buy", size="12.5"), row(outcomeIndex=999)]
    assert [v1.normalize(r) for r in rows] == [v2.normalize(as_v2(r)) for r in rows]
    assert page_table(v1, rows[:1] + rows[2:]).equals(page_table(v2, [as_v2(r) for r in rows[:1] + rows[2:]]))  # fast path
    assert page_table(v1, rows).equals(page_table(v2, [as_v2(r) for r in rows]))  # per-row path (odd forms)
    with pytest.raises(MalformedFillError, match="'token_id'"):
        v2.normalize({k: v for k, v in as_v2(row()).items() if k != "token_id"})  # the error names the v2 field


def test_decimal_arrays_round_trip_from_micro_units():
    import pyarrow as pa

    from clob_pipeline.fills.arrow import micro_to_decimal128

    arr = micro_to_decimal128([570_000, -1, 0, 9_000_000_000_000_000_000 // 1000], pa.decimal128(38, 6))
    from decimal import Decimal

    assert arr.to_pylist() == [Decimal("0.570000"), Decimal("-0.000001"), Decimal("0.000000"), Decimal("9000000000.000000")]
