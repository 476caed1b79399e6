"""Upgrade the bundle's mapping tables in place: the ``wallet_type`` column, and the types only a
derivation can prove.

Why: before deposit wallets were derived, a deposit wallet named by Gamma was stored as an
unverified ``proxy`` (``resolved_by`` ``gamma``); and a mapping table made outside the bundle may
lack ``wallet_type``. Every mapping table that exists (staging, production, the kept ``*_old``)
gets the column when it lacks it, then each row whose type no derivation proved is derived again:
when the CREATE2 derivation now names its kind (``deposit``; any kind for an untyped row), the row
is written again with that type and a newer ``updated_at``, which replaces it (ReplacingMergeTree
keyed by the pair). Row counts read with ``FINAL`` do not change, and a second run finds nothing to do.
"""

from __future__ import annotations

import datetime as dt

from clob_pipeline.config import OLD_SUFFIX, PRODUCTION_PROXY_TABLE, STAGING_PROXY_TABLE
from clob_pipeline.hooks.clickhouse import ClickHouseHook
from clob_pipeline.proxy.derive import derived_type

MAPPING_TABLES = (STAGING_PROXY_TABLE, PRODUCTION_PROXY_TABLE, PRODUCTION_PROXY_TABLE + OLD_SUFFIX)
COLUMNS = ["user_eoa", "proxy_wallet", "wallet_type", "resolved_by", "resolved_at", "updated_at"]


def retype_mapping_table(ch: ClickHouseHook, table: str) -> int:
    """Add ``wallet_type`` if missing, then re-type the rows a derivation proves; returns how many."""
    ch.run_sql_file("upgrade/mapping_columns.sql", {"proxy_table": table})
    now = dt.datetime.now(dt.UTC)
    fixed = []
    for row in ch.query_file_dicts("upgrade/untyped_mappings.sql", {"proxy_table": table}):
        kind = derived_type(row["user_eoa"].lower(), row["proxy_wallet"].lower())
        if kind is None or kind == row["wallet_type"]:
            continue
        by = "gamma+create2" if row["resolved_by"] == "gamma" and kind != "direct" else row["resolved_by"]
        fixed.append([row["user_eoa"], row["proxy_wallet"], kind, by, row["resolved_at"], now])
    if fixed:
        ch.bulk_insert_rows(table, fixed, column_names=COLUMNS)
    return len(fixed)


def upgrade_mapping_tables(ch: ClickHouseHook) -> dict[str, int]:
    """Upgrade every mapping table of the bundle that exists; returns the re-typed rows per table."""
    tables = [name for (name,) in ch.query_file("upgrade/fills_tables.sql", {"names": list(MAPPING_TABLES)})]
    return {table: retype_mapping_table(ch, table) for table in tables}
