"""Normalising Data API rows and CLOB trades into fills: values, ids, and errors naming the field."""

from __future__ import annotations

import pytest
from api_rows import EOA, WALLET
from api_rows import data_api_row as row

from clob_pipeline.fills.normalize import ClobFillNormalizer, DataApiFillNormalizer, MalformedFillError


def test_data_api_row_becomes_a_fill_with_exact_decimals():
    fill = DataApiFillNormalizer(WALLET, EOA).normalize(row())
    assert fill.size == 12_500_000 and fill.price == 570_000  # micro-units, exact
    assert fill.timestamp_ms == 1_700_000_000_000
    assert fill.transaction_hash == "0x" + "ee" * 32  # lower-cased
    assert (fill.proxy_wallet, fill.user_eoa, fill.source, fill.version) == (WALLET, EOA, "data_api", 0)
    assert len(fill.fill_id) == 32


def test_millisecond_timestamps_are_detected_by_magnitude():
    n = DataApiFillNormalizer(WALLET, EOA)
    assert n.normalize(row(timestamp=1_700_000_000_123)).timestamp_ms == 1_700_000_000_123


def test_identical_fills_in_one_transaction_get_distinct_stable_ids():
    rows = [row(), row(), row(price=0.58)]
    first = [f.fill_id for f in DataApiFillNormalizer(WALLET, EOA).normalize_page(rows)]
    again = [f.fill_id for f in DataApiFillNormalizer(WALLET, EOA).normalize_page(rows)]
    assert len(set(first)) == 3
    assert first == again


def test_restart_window_gives_re_read_rows_the_same_ids():
    n = DataApiFillNormalizer(WALLET, EOA)
    first = [f.fill_id for f in n.normalize_page([row(), row()])]
    n.restart_window()
    assert [f.fill_id for f in n.normalize_page([row(), row()])] == first


def test_fill_id_depends_on_wallet():
    a = DataApiFillNormalizer(WALLET, EOA).normalize(row())
    b = DataApiFillNormalizer("0x" + "01" * 20, EOA).normalize(row())
    assert a.fill_id != b.fill_id


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
        "transaction_hash": "0xabc",
        "trader_side": "TAKER",
        "maker_orders": [],
    }
    base.update(overrides)
    return base


def test_clob_taker_trade_is_one_fill_keyed_by_trade_id():
    [fill] = ClobFillNormalizer(WALLET, EOA).normalize_trade(trade())
    assert fill.fill_id == "trade-1" and fill.trade_id == "trade-1"
    assert (fill.side, fill.size, fill.price) == ("BUY", 10_000_000, 400_000)
    assert fill.status == "CONFIRMED" and fill.version == 1_700_000_005_000


def test_a_later_status_of_a_clob_trade_keeps_its_fill_id_and_timestamp():
    """Versions of one fill share its timestamp: the writer's time-range lookup of stored fills and
    FINAL without merging across monthly partitions both rely on it."""
    normalizer = ClobFillNormalizer(WALLET, EOA)
    [matched] = normalizer.normalize_trade(trade(status="TRADE_STATUS_MATCHED", last_update="1700000001"))
    [confirmed] = normalizer.normalize_trade(trade(last_update="1800000000"))
    assert confirmed.fill_id == matched.fill_id and confirmed.timestamp_ms == matched.timestamp_ms
    assert confirmed.version > matched.version


def test_clob_maker_trade_yields_only_the_wallets_maker_orders():
    orders = [
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
    ]
    fills = ClobFillNormalizer(WALLET, EOA).normalize_trade(trade(trader_side="MAKER", maker_orders=orders))
    assert [f.fill_id for f in fills] == ["trade-1:o1", "trade-1:o3"]
    assert fills[0].side == "SELL"  # same token as the BUY taker -> the maker sold
    assert fills[1].side == "BUY"  # explicit side wins


def test_clob_trade_without_trader_side_is_rejected():
    with pytest.raises(MalformedFillError, match="trader_side"):
        ClobFillNormalizer(WALLET, EOA).normalize_trade(trade(trader_side=None))


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


def test_fast_and_checked_paths_agree():
    n = DataApiFillNormalizer(WALLET, EOA)
    fast = n._fast_fields(row())
    assert fast is not None and fast == n._checked_fields(row())
    assert n._fast_fields(row(side="buy")) is None  # odd input takes the checked path
    assert n.normalize(row(side="buy")).side == "BUY"


def test_decimal_arrays_round_trip_from_micro_units():
    import pyarrow as pa

    from clob_pipeline.fills.arrow import micro_to_decimal128

    arr = micro_to_decimal128([570_000, -1, 0, 9_000_000_000_000_000_000 // 1000], pa.decimal128(38, 6))
    from decimal import Decimal

    assert arr.to_pylist() == [Decimal("0.570000"), Decimal("-0.000001"), Decimal("0.000000"), Decimal("9000000000.000000")]
