"""The columnar (Arrow) Data API path gives exactly what the per-row reference path gives.

Every comparison runs both paths over the same page and compares whole Arrow tables (ids, copies,
decimals, timestamps), so any column that differs fails. The fast path is shown to be taken
(``data_api_page_fast`` returns a table) where the test means it, so the equality is not vacuously
the per-row path compared with itself.
"""

from __future__ import annotations

import itertools

import pyarrow as pa
import pytest
from api_rows import EOA, WALLET
from api_rows import data_api_row as row

from clob_pipeline.fills.arrow import (
    fills_to_arrow,
    latest_per_fill_id,
    only_new_versions,
    with_ingested_at,
)
from clob_pipeline.fills.columnar import data_api_page_fast, page_table
from clob_pipeline.fills.identity import with_identity
from clob_pipeline.fills.normalize import DataApiFillNormalizer, MalformedFillError
from polymarket_emulator.dataset import build_dataset
from polymarket_emulator.server import data_api_row


def per_row(page: list[dict], wallet: str = WALLET) -> pa.Table:
    """The reference: the per-row normaliser, then identity."""
    return with_identity(fills_to_arrow(DataApiFillNormalizer(wallet, EOA).normalize_page(page), 0))


def columnar(page: list[dict], wallet: str = WALLET) -> pa.Table:
    return page_table(DataApiFillNormalizer(wallet, EOA), page)


def assert_same(expected: pa.Table, got: pa.Table) -> None:
    assert got.schema == expected.schema
    assert got.num_rows == expected.num_rows
    for name in expected.column_names:
        assert got[name].to_pylist() == expected[name].to_pylist(), name


def assert_fast_path_taken(page: list[dict], wallet: str = WALLET) -> None:
    fast = data_api_page_fast(DataApiFillNormalizer(wallet, EOA), page)
    assert fast is not None
    # the fast path leaves identity to with_identity
    assert set(fast["fill_id"].to_pylist()) == {""} and set(fast["copies"].to_pylist()) == {0}


@pytest.fixture(scope="module")
def emulated_rows() -> tuple[str, list[dict]]:
    # a burst puts large multisets of identical rows into one second
    dataset = build_dataset(wallets=1, fills_per_wallet=6000, late_fraction=0, burst_fills=40, burst_distinct=3)
    wallet = dataset.wallets[0]
    return wallet, [data_api_row(f) for f in dataset.visible_fills(wallet)]


def whole_seconds(rows: list[dict], per_page: int) -> list[list[dict]]:
    """Pages of about ``per_page`` rows that never split a second, as the pagers hand them over."""
    pages: list[list[dict]] = [[]]
    for _, second in itertools.groupby(rows, key=lambda r: r["timestamp"]):
        if len(pages[-1]) >= per_page:
            pages.append([])
        pages[-1].extend(second)
    return pages


@pytest.mark.parametrize(("per_page", "limit"), [(1, 600), (7, 2000), (500, None), (100_000, None)])
def test_emulated_pages_get_the_per_row_ids_and_values(emulated_rows, per_page, limit):
    wallet, rows = emulated_rows
    rows = rows[:limit]  # the newest rows (the burst is among them); small pages are slow to run
    pages = whole_seconds(rows, per_page)
    tables = []
    for page in pages:
        assert_fast_path_taken(page, wallet)
        expected = per_row(page, wallet)
        got = columnar(page, wallet)
        assert_same(expected, got)
        tables.append(got)
    table = pa.concat_tables(tables)
    assert table.num_rows == len(rows)
    # the data set holds identical fills in one second, so ranks and copies were exercised ...
    assert max(table["copies"].to_pylist()) > 1
    # ... and every fill still has an id of its own, however the seconds were paged
    assert len(set(table["fill_id"].to_pylist())) == len(rows)


def test_identical_rows_in_one_page_match_the_per_row_path():
    page = [row(timestamp=1_700_000_100), row(), row(price=0.58), row(), row()]
    assert_fast_path_taken(page)
    got = columnar(page)
    assert_same(per_row(page), got)
    assert got["copies"].to_pylist() == [1, 3, 1, 3, 3]
    assert len(set(got["fill_id"].to_pylist())) == 5


def test_an_empty_page_is_an_empty_table():
    table = columnar([])
    assert table.num_rows == 0
    assert_same(per_row([]), table)


@pytest.mark.parametrize(
    "odd",
    [
        {"size": "12.5"},  # decimal string
        {"price": "0.5700004"},  # decimal string, rounded half-even
        {"side": "sell"},  # lower-case side
        {"transactionHash": "0x" + "ÉE" * 32},  # non-ASCII: per-row lower-casing
        {"size": 10**10},  # beyond the range where float arithmetic is exact
        {"timestamp": "1700000000"},  # numeric string
    ],
)
def test_odd_but_valid_rows_take_the_per_row_path_with_the_same_result(odd):
    page = [row(timestamp=1_700_000_001), row(), row(**odd), row()]
    assert data_api_page_fast(DataApiFillNormalizer(WALLET, EOA), page) is None
    got = columnar(page)
    assert_same(per_row(page), got)
    assert got.num_rows == 4 and "" not in got["fill_id"].to_pylist()


def test_odd_rows_equal_to_plain_ones_are_ranked_with_them():
    """``"12.5"`` and ``12.5`` are one content: a page mixing them ranks them as copies."""
    got = columnar([row(), row(size="12.5"), row(side="buy")])
    assert got["copies"].to_pylist() == [3, 3, 3]
    assert sorted(got["fill_id"].to_pylist()) == sorted(columnar([row(), row(), row()])["fill_id"].to_pylist())


def test_a_null_outcome_is_empty_on_the_fast_path_as_on_the_per_row_path():
    page = [row(outcome=None), row()]
    assert_fast_path_taken(page)
    got = columnar(page)
    assert_same(per_row(page), got)
    assert got["outcome"].to_pylist() == ["", "Yes"]


def test_millisecond_timestamps_on_the_fast_path():
    page = [row(timestamp=1_700_000_000_123), row()]
    assert_fast_path_taken(page)
    got = columnar(page)
    assert_same(per_row(page), got)
    assert [t.timestamp() for t in got["timestamp"].to_pylist()] == [1_700_000_000.123, 1_700_000_000.0]
    assert got["copies"].to_pylist() == [1, 1]


def test_missing_outcome_index_defaults_like_the_per_row_path():
    bare = row()
    del bare["outcomeIndex"]
    table = columnar([bare, row()])
    assert table["outcome_index"].to_pylist() == [-1, 0]
    assert_same(per_row([bare, row()]), table)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"size": True}, "size"),
        ({"size": -1}, "size"),
        ({"size": 10**13}, "size"),  # beyond int64 micro-units
        ({"price": 1.5}, "price"),
        ({"price": float("nan")}, "price"),
        ({"timestamp": 0}, "timestamp"),
        ({"side": "HOLD"}, "side"),
        ({"asset": ""}, "asset"),
        ({"conditionId": None}, "conditionId"),
        ({"transactionHash": ""}, "transactionHash"),
        ({"outcomeIndex": "1"}, "outcomeIndex"),
    ],
)
def test_bad_rows_raise_the_per_row_error_naming_the_field(overrides, field):
    normalizer = DataApiFillNormalizer(WALLET, EOA)
    assert data_api_page_fast(normalizer, [row(), row(**overrides)]) is None
    with pytest.raises(MalformedFillError) as caught:
        page_table(normalizer, [row(), row(**overrides)])
    assert caught.value.field == field


def test_a_row_that_is_not_an_object_is_named():
    normalizer = DataApiFillNormalizer(WALLET, EOA)
    assert data_api_page_fast(normalizer, [row(), ["not", "an", "object"]]) is None
    with pytest.raises(MalformedFillError, match="'row' must be a JSON object"):
        page_table(normalizer, [row(), ["not", "an", "object"]])


def batch(*rows: tuple[str, int]) -> pa.Table:
    base = per_row([row(timestamp=1_700_000_000 + i) for i in range(len(rows))])
    table = base.set_column(base.schema.get_field_index("fill_id"), "fill_id", pa.array([r[0] for r in rows], pa.string()))
    return table.set_column(table.schema.get_field_index("version"), "version", pa.array([r[1] for r in rows], pa.uint64()))


def test_latest_per_fill_id_keeps_the_highest_version_and_the_later_row_on_ties():
    kept = latest_per_fill_id(batch(("a", 2), ("b", 0), ("a", 1), ("b", 0), ("c", 5)))
    assert sorted(zip(kept["fill_id"].to_pylist(), kept["version"].to_pylist())) == [("a", 2), ("b", 0), ("c", 5)]
    assert kept["timestamp"].to_pylist()[1].timestamp() == 1_700_000_003  # the later "b"
    unique = batch(("a", 0), ("b", 0))
    assert latest_per_fill_id(unique) is unique


def test_only_new_versions_drops_stored_fills_and_keeps_newer_ones():
    incoming = batch(("a", 1), ("b", 1), ("c", 0))
    stored = [("a", 1), ("b", 0), ("z", 9)]
    assert only_new_versions(incoming, stored).rows["fill_id"].to_pylist() == ["b", "c"]
    assert only_new_versions(incoming, []).rows is incoming


def test_new_ids_counts_new_fills_but_not_newer_versions_of_stored_ones():
    stored = [("a", 1), ("b", 0), ("z", 9)]
    new = only_new_versions(batch(("a", 1), ("b", 1), ("c", 0), ("d", 0)), stored)  # b (newer), c, d
    assert new.rows.num_rows == 3 and new.new_ids == 2
    assert only_new_versions(new.rows, []).new_ids == 3
    assert only_new_versions(batch(("a", 2)).slice(0, 0), stored).new_ids == 0


def test_with_ingested_at_sets_every_row():
    table = with_ingested_at(batch(("a", 0), ("b", 0)), 1_700_000_000_000)
    assert {t.timestamp() for t in table["ingested_at"].to_pylist()} == {1_700_000_000.0}
