"""ensure_schema upgrades fills tables of the old layout once, records it, and never scans them again.

The old layout: fills tables without ``maker_order_id`` and ``copies``, CLOB rows keyed by the
CLOB's trade id (``trade id`` or ``trade id:maker order id``). Runs the real ``ensure_schema``
operator on chDB and counts the statements it sends that read or write a fills table.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest

from clob_pipeline.dag_parts import SCHEMA_FILES, ensure_schema_task
from clob_pipeline.fills.arrow import fills_to_arrow
from clob_pipeline.fills.identity import with_identity
from clob_pipeline.fills.schema import Fill
from clob_pipeline.hooks.clickhouse import ClickHouseHook
from clob_pipeline.operators.schema_upgrade import FILLS_TABLES, UPGRADES
from clob_pipeline.sql_files import read_sql, split_statements

WALLET = "0x" + "ab" * 20
T0_MS = 1_780_000_000_000

OLD_LAYOUT = """
CREATE TABLE {db:Identifier}.{fills_table:Identifier}
(
    fill_id String, source LowCardinality(String), proxy_wallet String, user_eoa String, condition_id String,
    asset String, side LowCardinality(String), outcome String, outcome_index Int16, size Decimal(38, 6),
    price Decimal(18, 6), timestamp DateTime64(3, 'UTC'), transaction_hash String, trade_id String,
    trader_side LowCardinality(String), status LowCardinality(String), version UInt64, ingested_at DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(version) PARTITION BY toYYYYMM(timestamp) ORDER BY (proxy_wallet, fill_id)
"""
OLD_COLUMNS = [
    "fill_id", "source", "proxy_wallet", "user_eoa", "condition_id", "asset", "side", "outcome", "outcome_index", "size",
    "price", "timestamp", "transaction_hash", "trade_id", "trader_side", "status", "version", "ingested_at",
]  # fmt: skip


def clob_fill(trade_id: str, maker_order_id: str, second: int, size: int = 2_000_000) -> Fill:
    return Fill(
        "", "clob", WALLET, WALLET, "0xc", "7", "BUY", "Yes", 0, size, 450_000, T0_MS + second * 1000, "0xtx",
        trade_id, maker_order_id, "MAKER" if maker_order_id else "TAKER", "CONFIRMED", 3, 0,
    )  # fmt: skip


# Two maker fills of identical content in one second (told apart by their maker orders) and a taker fill.
CLOB_FILLS = [clob_fill("t-1", "m-9", 0), clob_fill("t-1", "m-8", 0), clob_fill("t-2", "", 5, size=1_000_000)]
DATA_API_ID = "0123456789abcdef0123456789abcdef"


def old_row(fill: Fill, fill_id: str) -> tuple:
    values = fill._asdict()
    values.update(
        fill_id=fill_id,
        size=Decimal(fill.size).scaleb(-6),
        price=Decimal(fill.price).scaleb(-6),
        timestamp=dt.datetime.fromtimestamp(fill.timestamp_ms / 1000, dt.UTC),
        ingested_at=dt.datetime.fromtimestamp(T0_MS / 1000, dt.UTC),
    )
    return tuple(values[c] for c in OLD_COLUMNS)


def make_old_tables(ch: ClickHouseHook, tables: tuple[str, ...]) -> None:
    ch.run_sql_file("schema/database.sql")
    rows = [old_row(f, f"{f.trade_id}:{f.maker_order_id}" if f.maker_order_id else f.trade_id) for f in CLOB_FILLS]
    rows.append(old_row(CLOB_FILLS[2]._replace(source="data_api", version=0), DATA_API_ID))
    for table in tables:
        ch.run_statements(OLD_LAYOUT, {"fills_table": table})
        ch.bulk_insert_rows(table, rows, column_names=OLD_COLUMNS)


def without_comments(sql: str) -> str:
    return re.sub(r"^\s*--.*$", "", sql, flags=re.MULTILINE).strip().rstrip(";").strip()


class FillsStatements:
    """Every statement the hook's clients send with a fills table as its ``fills_table``: (kind, table, text)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.seen: list[tuple[str, str, str]] = []
        opened = ClickHouseHook.shared_client

        def shared_client(hook: ClickHouseHook):
            client = opened(hook)
            if not getattr(client, "_counted", False):
                for name in ("query", "command"):
                    setattr(client, name, self._counting(getattr(client, name)))
                client._counted = True
            return client

        monkeypatch.setattr(ClickHouseHook, "shared_client", shared_client)

    def _counting(self, method):
        def call(sql, *args, **kwargs):
            table = (kwargs.get("parameters") or {}).get("fills_table")
            if table in FILLS_TABLES:
                text = without_comments(sql)
                self.seen.append((text.split()[0].upper(), table, text))
            return method(sql, *args, **kwargs)

        return call

    def take(self) -> list[tuple[str, str, str]]:
        seen, self.seen = self.seen, []
        return seen


def run_ensure_schema(run_id: str) -> None:
    """The DAGs' ensure_schema task, executed as the task runner would after rendering its SQL files."""
    op = ensure_schema_task()
    op.sql = [read_sql(name) for name in SCHEMA_FILES]
    op.execute({"run_id": run_id})


def test_old_tables_are_upgraded_once_recorded_and_not_scanned_again(database, monkeypatch):
    with ClickHouseHook() as ch:
        make_old_tables(ch, ("clob_fills_v2", "clob_fills"))
    statements = FillsStatements(monkeypatch)

    run_ensure_schema("first")
    first = statements.take()
    with ClickHouseHook() as ch:
        versions = ch.query_rows("SELECT version, name, run_id FROM {db:Identifier}.schema_versions FINAL ORDER BY version")
        stored = {
            table: ch.query_rows(
                "SELECT fill_id, source, maker_order_id, trade_id FROM {db:Identifier}.{t:Identifier} ORDER BY fill_id",
                {"t": table},
            )
            for table in ("clob_fills_v2", "clob_fills")
        }
        ledger = ch.query_rows("SELECT fills_table, wallet, source, fills_total FROM {db:Identifier}.wallet_sync_state FINAL")

    new_ids = with_identity(fills_to_arrow(CLOB_FILLS, 0))["fill_id"].to_pylist()  # what a load today stores
    expected = sorted([(i, "clob", f.maker_order_id, f.trade_id) for i, f in zip(new_ids, CLOB_FILLS, strict=True)])
    expected = sorted([*expected, (DATA_API_ID, "data_api", "", "t-2")])
    assert stored == {"clob_fills_v2": expected, "clob_fills": expected}  # re-keyed in every table; Data API kept
    assert len(set(new_ids)) == 3
    assert versions == [(u.version, u.name, "first") for u in UPGRADES]  # every upgrade, once
    assert sorted(ledger) == [("clob_fills", WALLET, "clob", 4), ("clob_fills_v2", WALLET, "clob", 4)]
    scan = without_comments(read_sql("upgrade/old_clob_rows.sql"))
    assert sorted(table for _, table, text in first if text == scan) == ["clob_fills", "clob_fills_v2"]  # once each

    run_ensure_schema("second")
    second = statements.take()
    ddl = {without_comments(statement) for name in SCHEMA_FILES for statement in split_statements(read_sql(name))}
    assert second and {text for _, _, text in second} <= ddl  # the idempotent DDL files only: no upgrade statement
    assert not [kind for kind, _, _ in second if kind not in ("CREATE", "ALTER")]  # no SELECT, INSERT or DELETE
    with ClickHouseHook() as ch:
        assert ch.query_rows("SELECT count() FROM {db:Identifier}.schema_versions")[0][0] == len(UPGRADES)


def test_a_new_database_records_the_current_version_on_its_first_run(database, monkeypatch):
    statements = FillsStatements(monkeypatch)
    run_ensure_schema("fresh")
    run_ensure_schema("again")
    with ClickHouseHook() as ch:
        versions = ch.query_rows("SELECT version, run_id FROM {db:Identifier}.schema_versions FINAL ORDER BY version")
    assert versions == [(u.version, "fresh") for u in UPGRADES]
    reads = [table for kind, table, _ in statements.take() if kind == "SELECT"]
    assert reads == ["clob_fills_v2"]  # the new, empty staging table, once (first run); the second read none
