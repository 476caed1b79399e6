"""Task builders every DAG of the bundle shares."""

from __future__ import annotations

from clob_pipeline.config import CLICKHOUSE_POOL, STAGING_FILLS_TABLE, STAGING_PROXY_TABLE
from clob_pipeline.operators.clickhouse import ClickHouseSqlOperator

# Idempotent DDL, in order: database, fills table, mapping table, state tables. A tuple: Airflow
# resolves a list of ``.sql`` names in place (names become file texts), so each operator gets a copy.
SCHEMA_FILES = ("schema/database.sql", "schema/fills_table.sql", "schema/proxy_table.sql", "schema/state_tables.sql")


def ensure_schema_task(fills_table: str = STAGING_FILLS_TABLE, proxy_table: str = STAGING_PROXY_TABLE) -> ClickHouseSqlOperator:
    """``ensure_schema``: create the bundle database and tables if missing (safe to re-run)."""
    return ClickHouseSqlOperator(
        task_id="ensure_schema",
        sql=list(SCHEMA_FILES),
        parameters={"fills_table": fills_table, "proxy_table": proxy_table},
        pool=CLICKHOUSE_POOL,
    )
