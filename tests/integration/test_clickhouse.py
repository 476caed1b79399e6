"""The ClickHouse hook and the fill writer on real chDB: schema, parameters, idempotent inserts."""

from __future__ import annotations

from clob_pipeline.dag_parts import SCHEMA_FILES
from clob_pipeline.fills.arrow import fills_to_arrow
from clob_pipeline.fills.schema import FILL_COLUMNS, Fill
from clob_pipeline.hooks.clickhouse import ClickHouseHook
from clob_pipeline.operators.fill_writer import FillBatchWriter

TABLES = {"fills_table": "clob_fills_v2", "proxy_table": "pm_user_proxy_wallets_v2"}
WALLET = "0x" + "ab" * 20


def ensure_schema(ch: ClickHouseHook) -> None:
    for name in SCHEMA_FILES:
        ch.run_sql_file(name, TABLES)


def fill(fill_id: str, ts_s: int, version: int = 0, status: str = "") -> Fill:
    return Fill(
        fill_id,
        "data_api",
        WALLET,
        WALLET,
        "0xc",
        "1",
        "BUY",
        "Yes",
        0,
        1_500_000,
        250_000,
        ts_s * 1000,
        "0xt",
        "",
        "",
        "",
        status,
        version,
        1,
    )


def test_schema_is_idempotent_atomic_and_matches_the_fill_layout(database):
    with ClickHouseHook() as ch:
        ensure_schema(ch)
        ensure_schema(ch)  # second run: no error, no change
        engine = ch.query_rows("SELECT engine FROM system.databases WHERE name = {db:String}")[0][0]
        columns = ch.query_rows(
            "SELECT name FROM system.columns WHERE database = {db:String} AND table = 'clob_fills_v2' ORDER BY position"
        )
        create = ch.query_rows(
            "SELECT create_table_query FROM system.tables WHERE database = {db:String} AND name = 'clob_fills_v2'"
        )[0][0]
    assert engine == "Atomic"
    assert tuple(c for (c,) in columns) == FILL_COLUMNS
    assert "vertical_merge_algorithm_min_rows_to_activate = 1" in create  # every merge reads one column at a time


def test_parameters_are_bound_not_formatted(database):
    with ClickHouseHook() as ch:
        ensure_schema(ch)
        evil = "x'); DROP TABLE clob_fills_v2; --"
        assert ch.query_file("fills/wallets_fill_stats.sql", {"fills_table": "clob_fills_v2", "wallets": [evil]}) == []
        assert ch.query_rows("EXISTS TABLE {db:Identifier}.clob_fills_v2")[0][0] == 1


def test_writer_skips_stored_fills_and_keeps_newer_versions(database):
    with ClickHouseHook() as ch:
        ensure_schema(ch)
        writer = FillBatchWriter(ch, "clob_fills_v2", WALLET)
        writer.add(fills_to_arrow([fill("a", 1_700_000_000), fill("b", 1_700_000_100, version=1, status="MATCHED")], 0))
        writer.flush()
        assert writer.rows_inserted == 2 and writer.ids_added == 2 and writer.newest_ms == 1_700_000_100_000
        again = FillBatchWriter(ch, "clob_fills_v2", WALLET)
        again.add(fills_to_arrow([fill("a", 1_700_000_000), fill("b", 1_700_000_100, version=1, status="MATCHED")], 0))
        again.flush()
        assert again.rows_inserted == 0 and again.rows_skipped == 2  # a repeated run writes nothing
        assert again.ids_added == 0 and again.newest_ms == 1_700_000_100_000
        newer = FillBatchWriter(ch, "clob_fills_v2", WALLET)
        newer.add(fills_to_arrow([fill("b", 1_700_000_100, version=2, status="CONFIRMED")], 0))
        newer.flush()
        assert newer.rows_inserted == 1 and newer.ids_added == 0  # a newer version replaces, adds no fill
        rows = ch.query_rows("SELECT fill_id, status FROM {db:Identifier}.clob_fills_v2 FINAL ORDER BY fill_id")
    assert rows == [("a", ""), ("b", "CONFIRMED")]


def test_writer_looks_up_stored_fills_only_where_the_wallet_had_some(database):
    with ClickHouseHook() as ch:
        ensure_schema(ch)
        first = FillBatchWriter(ch, "clob_fills_v2", WALLET, newest_stored_ms=0)  # nothing stored yet
        first.add(fills_to_arrow([fill("a", 1_700_000_000)], 0))
        first.flush()
        lookups = []
        query_file = ch.query_file
        ch.query_file = lambda name, params: lookups.append(params) or query_file(name, params)
        writer = FillBatchWriter(ch, "clob_fills_v2", WALLET, newest_stored_ms=1_700_000_000_000)
        writer.add(fills_to_arrow([fill("c", 1_700_000_100)], 0))  # newer than anything stored: no lookup
        writer.flush()
        writer.add(fills_to_arrow([fill("a", 1_700_000_000)], 0))  # inside the stored range: looked up, skipped
        writer.flush()
        assert [p["lo_ms"] for p in lookups] == [1_700_000_000_000]
        assert (writer.rows_inserted, writer.rows_skipped, writer.ids_added) == (1, 1, 1)
        assert ch.query_rows("SELECT count() FROM {db:Identifier}.clob_fills_v2")[0][0] == 2


def test_writer_deduplicates_within_its_buffer(database):
    with ClickHouseHook() as ch:
        ensure_schema(ch)
        writer = FillBatchWriter(ch, "clob_fills_v2", WALLET)
        writer.add(fills_to_arrow([fill("a", 1_700_000_000), fill("a", 1_700_000_000)], 0))
        writer.flush()
        assert writer.rows_inserted == 1 and writer.ids_added == 1
        assert ch.query_rows("SELECT count() FROM {db:Identifier}.clob_fills_v2")[0][0] == 1


def test_a_load_checkpoints_only_what_its_writer_stored(database):
    import pytest
    from api_rows import data_api_row

    from clob_pipeline.fills.normalize import DataApiFillNormalizer
    from clob_pipeline.fills.pagers import Fed
    from clob_pipeline.operators.wallet_load import WalletLoad

    def load(table: str) -> WalletLoad:
        return WalletLoad(
            ch=ch, log=None, run_id="run", source="data_api_v1", fills_table=table, table_uuid="u", wallet=WALLET,
            pager=None, normalizer=DataApiFillNormalizer(WALLET, WALLET), writer=FillBatchWriter(ch, table, WALLET),
            checkpoint=None, stored=(0, None), window=(1, 2_000_000_000), batch_rows=1,
        )  # fmt: skip

    def checkpoints() -> list:
        return ch.query_rows("SELECT wallet, resume_end_s FROM {db:Identifier}.ingest_checkpoints FINAL")

    with ClickHouseHook() as ch:
        ensure_schema(ch)
        rows = [data_api_row(proxyWallet=WALLET, timestamp=1_700_000_000 + i, transactionHash=f"0x{i:064x}") for i in range(3)]
        with pytest.raises(Exception, match="no_such_table"):
            failing = load("no_such_table")
            failing.take(failing.prepare(Fed(rows, 1_699_999_999)))
        assert checkpoints() == []  # the batch failed: no checkpoint claims it
        good = load("clob_fills_v2")
        good.take(good.prepare(Fed(rows, 1_699_999_999)))
        assert checkpoints() == [(WALLET, 1_699_999_999)]
        assert ch.query_rows("SELECT count() FROM {db:Identifier}.clob_fills_v2")[0][0] == 3


def test_an_embedded_hook_checks_running_merges_before_it_closes(database):
    with ClickHouseHook() as ch:
        ensure_schema(ch)
        for batch in range(4):  # four parts: the engine may start merging them at once
            ch.insert_arrow("clob_fills_v2", fills_to_arrow([fill(f"m{batch}", 1_700_000_000 + batch)], 0))
        wait = ch.let_merges_finish(30)
        assert wait is not None and wait.still_running == 0
        assert ch.query_file("engine/running_merges.sql") == [(0,)]
        assert ch.let_merges_finish(0) is None  # 0 disables the wait
