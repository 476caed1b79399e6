"""Task builders every DAG of the bundle shares."""

from __future__ import annotations

from typing import Any

from airflow.sdk import Param

from clob_pipeline.config import CLICKHOUSE_POOL, STAGING_FILLS_TABLE, STAGING_PROXY_TABLE
from clob_pipeline.fills.params import DEFAULT_SOURCE, SOURCES
from clob_pipeline.operators.fills_transfer import PolymarketFillsToClickHouseOperator
from clob_pipeline.operators.schema_upgrade import EnsureSchemaOperator

# Idempotent DDL, in order: database, schema versions, fills table, mapping table, state tables. A tuple:
# Airflow resolves a list of ``.sql`` names in place (names become file texts), so each operator gets a copy.
SCHEMA_FILES = (
    "schema/database.sql",
    "schema/schema_versions.sql",
    "schema/fills_table.sql",
    "schema/proxy_table.sql",
    "schema/state_tables.sql",
    "schema/promotion_tables.sql",
    "schema/health_tables.sql",
    "schema/chain_tables.sql",
)


def source_param() -> Param:
    """The ``source`` Param, offered the same way by every loading DAG."""
    return Param(
        DEFAULT_SOURCE,
        type="string",
        enum=list(SOURCES),
        title="Source",
        description="data_api_v2 (public Data API v2, any wallet; the default; it does not serve fills below 0.01 "
        "shares), data_api_v1 (public Data API v1 /trades, also the smallest fills), clob (needs the polymarket_clob "
        "L2 key; the key owner's trades only), chain (needs polygon_rpc: OrderFilled logs read from Polygon, no Polymarket "
        "API). data_api means the default Data API.",
    )


def wallets_per_task_param(default: int) -> Param:
    """The ``wallets_per_task`` Param: how many wallets one mapped load task takes."""
    return Param(
        default,
        type="integer",
        minimum=1,
        maximum=1000,
        title="Wallets per load task",
        description="Wallets one mapped task loads at once: their requests run concurrently within the rate limit, "
        "and fewer tasks cost fewer task start-ups.",
    )


def ensure_schema_task(fills_table: str = STAGING_FILLS_TABLE, proxy_table: str = STAGING_PROXY_TABLE) -> EnsureSchemaOperator:
    """``ensure_schema``: create the bundle database and tables if missing, then run the schema
    upgrades not yet recorded in ``schema_versions`` (safe to re-run; a recorded upgrade never runs again)."""
    return EnsureSchemaOperator(
        task_id="ensure_schema",
        sql=list(SCHEMA_FILES),
        parameters={"fills_table": fills_table, "proxy_table": proxy_table},
        pool=CLICKHOUSE_POOL,
    )


def load_fills_in_batches(task_id: str, batch_kwargs: Any) -> Any:
    """One mapped load task per batch of wallets; ``batch_kwargs`` is a list of operator kwargs
    (``wallets``, ``window``, ``source``), one per batch."""
    return PolymarketFillsToClickHouseOperator.partial(
        task_id=task_id,
        pool=CLICKHOUSE_POOL,
        map_index_template="{{ task.label }}",
    ).expand_kwargs(batch_kwargs)
