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
        writer = FillBatchWriter(ch, "clob_fills_v2", WALLET, background=False)
        writer.add(fills_to_arrow([fill("a", 1_700_000_000), fill("b", 1_700_000_100, version=1, status="MATCHED")], 0))
        writer.flush()
        assert writer.rows_inserted == 2 and writer.ids_added == 2 and writer.newest_ms == 1_700_000_100_000
        again = FillBatchWriter(ch, "clob_fills_v2", WALLET, background=False)
        again.add(fills_to_arrow([fill("a", 1_700_000_000), fill("b", 1_700_000_100, version=1, status="MATCHED")], 0))
        again.flush()
        assert again.rows_inserted == 0 and again.rows_skipped == 2  # a repeated run writes nothing
        assert again.ids_added == 0 and again.newest_ms == 1_700_000_100_000
        newer = FillBatchWriter(ch, "clob_fills_v2", WALLET, background=False)
        newer.add(fills_to_arrow([fill("b", 1_700_000_100, version=2, status="CONFIRMED")], 0))
        newer.flush()
        assert newer.rows_inserted == 1 and newer.ids_added == 0  # a newer version replaces, adds no fill
        rows = ch.query_rows("SELECT fill_id, status FROM {db:Identifier}.clob_fills_v2 FINAL ORDER BY fill_id")
    assert rows == [("a", ""), ("b", "CONFIRMED")]


def test_writer_deduplicates_within_its_buffer(database):
    with ClickHouseHook() as ch:
        ensure_schema(ch)
        writer = FillBatchWriter(ch, "clob_fills_v2", WALLET, background=False)
        writer.add(fills_to_arrow([fill("a", 1_700_000_000), fill("a", 1_700_000_000)], 0))
        writer.flush()
        assert writer.rows_inserted == 1 and writer.ids_added == 1
        assert ch.query_rows("SELECT count() FROM {db:Identifier}.clob_fills_v2")[0][0] == 1


def test_background_writer_stores_in_order_and_checkpoints_only_after_storing(database):
    events = []
    with ClickHouseHook() as ch:
        ensure_schema(ch)
        writer = FillBatchWriter(ch, "clob_fills_v2", WALLET)

        def stored_count() -> int:
            return ch.query_rows("SELECT count() FROM {db:Identifier}.clob_fills_v2")[0][0]

        for batch in range(3):
            writer.add(fills_to_arrow([fill(f"{batch}-{i}", 1_700_000_000 + batch * 10 + i) for i in range(5)], 0))
            writer.flush(lambda b=batch: events.append((b, stored_count())))
        writer.close()
    assert events == [(0, 5), (1, 10), (2, 15)]  # each checkpoint saw its own batch stored


def test_background_writer_raises_the_insert_error(database):
    import pytest

    with ClickHouseHook() as ch:
        ensure_schema(ch)
        writer = FillBatchWriter(ch, "no_such_table", WALLET)
        writer.add(fills_to_arrow([fill("a", 1_700_000_000)], 0))
        called = []
        writer.flush(lambda: called.append(1))
        with pytest.raises(Exception, match="no_such_table"):
            writer.close()
    assert called == []  # the checkpoint never claims a batch that failed


def test_an_embedded_hook_checks_running_merges_before_it_closes(database):
    with ClickHouseHook() as ch:
        ensure_schema(ch)
        for batch in range(4):  # four parts: the engine may start merging them at once
            ch.insert_arrow("clob_fills_v2", fills_to_arrow([fill(f"m{batch}", 1_700_000_000 + batch)], 0))
        wait = ch.let_merges_finish(30)
        assert wait is not None and wait.still_running == 0
        assert ch.query_file("engine/running_merges.sql") == [(0,)]
        assert ch.let_merges_finish(0) is None  # 0 disables the wait
