"""Task builders every DAG of the bundle shares."""

from __future__ import annotations

from typing import Any

from airflow.sdk import TriggerRule, task
from airflow.sdk.exceptions import AirflowFailException

from clob_pipeline.config import CLICKHOUSE_POOL, STAGING_FILLS_TABLE, STAGING_PROXY_TABLE
from clob_pipeline.operators.fills_transfer import PolymarketFillsToClickHouseOperator
from clob_pipeline.operators.schema_upgrade import EnsureSchemaOperator

# Idempotent DDL, in order: database, fills table, mapping table, state tables. A tuple: Airflow
# resolves a list of ``.sql`` names in place (names become file texts), so each operator gets a copy.
SCHEMA_FILES = (
    "schema/database.sql",
    "schema/fills_table.sql",
    "schema/proxy_table.sql",
    "schema/state_tables.sql",
    "schema/promotion_tables.sql",
    "schema/health_tables.sql",
)


def ensure_schema_task(fills_table: str = STAGING_FILLS_TABLE, proxy_table: str = STAGING_PROXY_TABLE) -> EnsureSchemaOperator:
    """``ensure_schema``: create the bundle database and tables if missing, upgrade older fills
    tables (safe to re-run)."""
    return EnsureSchemaOperator(
        task_id="ensure_schema",
        sql=list(SCHEMA_FILES),
        parameters={"fills_table": fills_table, "proxy_table": proxy_table},
        pool=CLICKHOUSE_POOL,
    )


def load_fills_per_wallet(task_id: str, wallet_kwargs: Any, fills_table: str | None = STAGING_FILLS_TABLE) -> Any:
    """One mapped fills-transfer task per wallet; ``wallet_kwargs`` is a list of operator kwargs.
    ``fills_table=None``: each task writes to the live fills table (see the operator)."""
    return PolymarketFillsToClickHouseOperator.partial(
        task_id=task_id,
        fills_table=fills_table,
        pool=CLICKHOUSE_POOL,
        map_index_template="{{ task.label }}",
    ).expand_kwargs(wallet_kwargs)


def fail_run_if_any_task_failed(any_task: Any) -> Any:
    """Airflow marks a run by its leaf tasks; a leaf with trigger rule ALL_DONE (``resume_ingestion``,
    ``record_mapping_count``) succeeds anyway, so without this watcher a failed check would show a
    green run. It runs only when a task failed, and fails naming them."""

    @task(task_id="run_outcome", trigger_rule=TriggerRule.ONE_FAILED, on_failure_callback=None)
    def run_outcome(**context: Any) -> None:
        ti = context["ti"]
        states = ti.get_task_states(dag_id=ti.dag_id, run_ids=[ti.run_id]).get(ti.run_id, {})
        failed = sorted(task_id for task_id, state in states.items() if state == "failed")
        raise AirflowFailException(
            f"{ti.dag_id} did not complete: failed task(s) {', '.join(failed) or '(see the grid)'}; "
            "their logs say what failed and what to do."
        )

    watcher = run_outcome()
    dag = getattr(any_task, "operator", any_task).dag
    for other in dag.tasks:
        if other is not watcher.operator:
            other >> watcher
    return watcher
