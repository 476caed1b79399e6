"""The columnar (Arrow) Data API path gives exactly what the per-row reference path gives.

Every comparison runs both paths over the same pages and compares whole Arrow tables, so an
id, a decimal, a timestamp or an occurrence number that differs fails. The fast path is shown to
be taken (``data_api_page_fast`` returns a table) where the test means it, so the equality is
not vacuously the per-row path compared with itself.
"""

from __future__ import annotations

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
from clob_pipeline.fills.normalize import DataApiFillNormalizer, MalformedFillError
from polymarket_emulator.dataset import build_dataset
from polymarket_emulator.server import data_api_row


def per_row(pages: list[list[dict]], wallet: str = WALLET, restarts: frozenset[int] = frozenset()) -> pa.Table:
    normalizer = DataApiFillNormalizer(wallet, EOA)
    fills = []
    for number, page in enumerate(pages):
        fills += normalizer.normalize_page(page)
        if number in restarts:
            normalizer.restart_window()
    return fills_to_arrow(fills, 0)


def columnar(pages: list[list[dict]], wallet: str = WALLET, restarts: frozenset[int] = frozenset()) -> pa.Table:
    normalizer = DataApiFillNormalizer(wallet, EOA)
    tables = []
    for number, page in enumerate(pages):
        tables.append(page_table(normalizer, page))
        if number in restarts:
            normalizer.restart_window()
    return pa.concat_tables(tables)


def assert_same(expected: pa.Table, got: pa.Table) -> None:
    assert got.schema == expected.schema
    for name in expected.column_names:
        assert got[name].to_pylist() == expected[name].to_pylist(), name


@pytest.fixture(scope="module")
def emulated_rows() -> tuple[str, list[dict]]:
    dataset = build_dataset(wallets=1, fills_per_wallet=6000, late_fraction=0)
    wallet = dataset.wallets[0]
    return wallet, [data_api_row(f) for f in dataset.visible_fills(wallet)]


@pytest.mark.parametrize("page_size", [1, 7, 500, 1000])
def test_emulated_pages_get_the_per_row_ids_and_values(emulated_rows, page_size):
    wallet, rows = emulated_rows
    pages = [rows[i : i + page_size] for i in range(0, len(rows), page_size)]
    expected = per_row(pages, wallet)
    assert_same(expected, columnar(pages, wallet))
    assert data_api_page_fast(DataApiFillNormalizer(wallet, EOA), pages[0]) is not None  # the fast path ran
    # the data set holds identical fills in one transaction, so occurrence numbers were exercised
    assert len(set(expected["fill_id"].to_pylist())) == len(rows)
    identities = {(r["transactionHash"], r["asset"], r["side"], r["size"], r["price"], r["timestamp"]) for r in rows}
    assert len(identities) < len(rows)


def test_repeated_fills_across_a_page_boundary_and_interleaved_timestamps():
    same = row()
    later = row(timestamp=1_700_000_100)
    pages = [
        [later, same, same],
        [same, row(price=0.58), same],  # continues the run of the page before: occurrences 2, 3
        [later, same],  # timestamps interleave: the per-row rule restarts the counters
        [same],
    ]
    assert_same(per_row(pages), columnar(pages))
    ids = columnar(pages)["fill_id"].to_pylist()
    assert len(set(ids[:6])) == 6


def test_restart_window_matches_the_per_row_path():
    pages = [[row(), row()], [row(), row()], [row(timestamp=1_699_999_999)]]
    assert_same(per_row(pages, restarts=frozenset({0})), columnar(pages, restarts=frozenset({0})))


@pytest.mark.parametrize(
    "odd",
    [
        {"size": "12.5"},  # decimal string
        {"price": "0.5700004"},  # decimal string, rounded half-even
        {"timestamp": 1_700_000_000_123},  # milliseconds (fast path too) mixed below with seconds
        {"side": "sell"},  # lower-case side
        {"outcome": None},
        {"transactionHash": "0x" + "ÉE" * 32},  # non-ASCII: per-row lower-casing
        {"size": 10**10},  # beyond the range where float arithmetic is exact
    ],
)
def test_odd_but_valid_rows_take_the_per_row_path_with_the_same_result(odd):
    pages = [[row(timestamp=1_700_000_001), row()], [row(), row(**odd), row()], [row(timestamp=1_699_999_000)]]
    assert_same(per_row(pages), columnar(pages))


def test_missing_outcome_index_defaults_like_the_per_row_path():
    bare = row()
    del bare["outcomeIndex"]
    table = columnar([[bare, row()]])
    assert table["outcome_index"].to_pylist() == [-1, 0]
    assert_same(per_row([[bare, row()]]), table)


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
    with pytest.raises(MalformedFillError, match="'row' must be a JSON object"):
        page_table(DataApiFillNormalizer(WALLET, EOA), [row(), ["not", "an", "object"]])


def batch(*rows: tuple[str, int]) -> pa.Table:
    base = per_row([[row(timestamp=1_700_000_000 + i) for i in range(len(rows))]])
    table = base.set_column(0, "fill_id", pa.array([r[0] for r in rows], pa.string()))
    return table.set_column(16, "version", pa.array([r[1] for r in rows], pa.uint64()))


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
