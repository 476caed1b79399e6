"""``ensure_schema``: create the bundle's tables, then run each pending schema upgrade once.

Why numbered upgrades: some changes need more than idempotent DDL (a scan, a rewrite of rows).
Running those on every DAG run cost a ``FINAL`` scan of every fills table each time, the 6-hourly
incremental included. So each such change is an :class:`Upgrade` with a version number;
``ensure_schema`` reads the versions recorded in ``schema_versions`` (a few rows) and runs only the
missing ones, in order, recording each after it finished. A crash mid-upgrade records nothing, and
every upgrade is written to be run again, so the next run finishes the job.

Version 1, one identity for a fill across sources: fills used to have two kinds of id (the CLOB's
trade id, a content hash for the Data API), so one fill loaded through both sources was stored
twice. Now every fill's id is its content plus its rank (``fills/identity.py``). Existing tables
keep working and lose nothing:

1. every fills table of the bundle that exists (staging, production, the kept ``*_old``) gets the
   new columns ``maker_order_id`` and ``copies`` (an ``ALTER ... ADD COLUMN IF NOT EXISTS``);
2. CLOB rows that still carry an old id are re-keyed: the same rows, every column kept, the maker
   order id moved out of the old id into its column, the fill id computed as for a new load. The
   re-keyed rows are inserted first (ids already there are skipped), then the old ones deleted,
   so a crash in between leaves both and the next run finishes the job;
3. the ledger of every re-keyed wallet is measured again, since a fill that was stored under both
   sources is now one row.

Data API ids keep their formula, so their rows need nothing; their ``copies`` stays 0 (unknown)
until a load reads their second again. Tables made after version 1 is recorded have the current
layout (``schema/fills_table.sql``), so they are not looked at again.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from clob_pipeline.config import OLD_SUFFIX, PRODUCTION_FILLS_TABLE, STAGING_FILLS_TABLE
from clob_pipeline.fills.schema import SIZE_SCALE, Fill
from clob_pipeline.hooks.clickhouse import ClickHouseHook
from clob_pipeline.operators.clickhouse import ClickHouseSqlOperator
from clob_pipeline.operators.mapping_upgrade import upgrade_mapping_tables

FILLS_TABLES = (STAGING_FILLS_TABLE, PRODUCTION_FILLS_TABLE, PRODUCTION_FILLS_TABLE + OLD_SUFFIX)


def _micro(value: Decimal) -> int:
    return int(value.scaleb(SIZE_SCALE))


def _ms(value: dt.datetime) -> int:
    return int(value.replace(tzinfo=value.tzinfo or dt.UTC).timestamp() * 1000)


def rekey_old_clob_rows(ch: ClickHouseHook, table: str) -> int:
    """Give a fills table's old-style CLOB rows their content ids; returns how many were re-keyed."""
    from clob_pipeline.fills.arrow import fills_to_arrow, only_new_versions, with_ingested_at
    from clob_pipeline.fills.identity import with_identity

    rows = ch.query_file_dicts("upgrade/old_clob_rows.sql", {"fills_table": table})
    if not rows:
        return 0
    fills = [
        Fill(**{**{k: r[k] for k in Fill._fields if k in r}, "size": _micro(r["size"]), "price": _micro(r["price"]),
                "timestamp_ms": _ms(r["timestamp"])})
        for r in rows
    ]  # fmt: skip
    rekeyed = with_identity(fills_to_arrow(fills, 0))
    stored = ch.query_file("upgrade/stored_versions.sql", {"fills_table": table, "ids": rekeyed["fill_id"].to_pylist()})
    new = only_new_versions(rekeyed, stored).rows
    if new.num_rows:
        ch.insert_arrow(table, with_ingested_at(new, int(time.time() * 1000)))
    ch.run_sql_file("upgrade/delete_old_clob_rows.sql", {"fills_table": table})
    wallets = sorted({r["proxy_wallet"] for r in rows})
    table_uuid = dict(ch.query_file("promotion/table_uuids.sql", {"names": [table]}))[table]
    remeasured = ch.query_file("fills/wallets_fill_stats.sql", {"fills_table": table, "wallets": wallets})
    for wallet, fills_total, newest_ms in remeasured:
        ch.run_sql_file(
            "state/write_sync_state.sql",
            {
                "wallet": wallet,
                "source": "clob",
                "table_uuid": table_uuid,
                "fills_table": table,
                "last_fill_ms": newest_ms,
                "fills_total": fills_total,
                "run_id": "schema-upgrade",
                "hold_from_ms": 0,  # tables of this layout predate held-back CLOB trades
            },
        )
    return len(rows)


def upgrade_fills_identity(ch: ClickHouseHook) -> str:
    """Version 1 (see the module docstring); returns what it did, for the record and the log."""
    tables = [name for (name,) in ch.query_file("upgrade/fills_tables.sql", {"names": list(FILLS_TABLES)})]
    rekeyed = {}
    for table in tables:
        ch.run_sql_file("upgrade/fills_columns.sql", {"fills_table": table})
        rekeyed[table] = rekey_old_clob_rows(ch, table)
    return f"fills tables upgraded: {', '.join(tables) or 'none'}; old-style CLOB rows re-keyed: {rekeyed or 'none'}"


@dataclass(frozen=True)
class Upgrade:
    """One schema upgrade: run once per database, in version order, then recorded."""

    version: int
    name: str
    apply: Callable[[ClickHouseHook], str]


def upgrade_mapping_types(ch: ClickHouseHook) -> str:
    """Version 2: ``wallet_type`` on every mapping table, and the types only a derivation can prove
    (``operators/mapping_upgrade.py``); returns what it did, for the record and the log."""
    return f"mapping rows re-typed by CREATE2: {upgrade_mapping_tables(ch) or 'none'}"


UPGRADES = (
    Upgrade(1, "fills_identity_across_sources", upgrade_fills_identity),
    Upgrade(2, "mapping_wallet_types", upgrade_mapping_types),
)


def apply_pending_upgrades(ch: ClickHouseHook, run_id: str) -> list[tuple[Upgrade, str]]:
    """Run the upgrades not yet recorded in ``schema_versions``; returns each one run with its detail."""
    applied = {version for (version,) in ch.query_file("upgrade/applied_versions.sql")}
    done = []
    for upgrade in sorted(UPGRADES, key=lambda u: u.version):
        if upgrade.version in applied:
            continue
        detail = upgrade.apply(ch)
        ch.run_sql_file(
            "upgrade/record_version.sql",
            {"version": upgrade.version, "name": upgrade.name, "detail": detail, "run_id": run_id},
        )
        done.append((upgrade, detail))
    return done


class EnsureSchemaOperator(ClickHouseSqlOperator):
    """Run the idempotent DDL files, then the schema upgrades this database has not recorded yet."""

    def execute(self, context: Any) -> int:
        statements = super().execute(context)
        started = time.monotonic()
        with ClickHouseHook(self.clickhouse_conn_id) as ch:
            done = apply_pending_upgrades(ch, context["run_id"])
        for upgrade, detail in done:
            self.log.info("schema upgrade %d (%s) applied and recorded: %s", upgrade.version, upgrade.name, detail)
        self.log.info(
            "schema at version %d: %d upgrade(s) applied in this run in %.2fs",
            max(u.version for u in UPGRADES),
            len(done),
            time.monotonic() - started,
        )
        return statements
