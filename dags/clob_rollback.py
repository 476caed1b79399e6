"""
### clob_rollback — put the previous production back (manual trigger)

On-call runbook: README, "Promote and roll back".

Restores `clob_fills_old` / `pm_user_proxy_wallets_old` as production and moves the current
production aside to `*_old` (so a second rollback re-does the promotion), with the same
journaled `EXCHANGE TABLES` swap as `clob_promotion`, under the same ingestion pause.

- Refuses, changing nothing, when there is no `*_old` backup (no promotion has replaced a
  production yet).
- `dry_run`: prints the tables and row counts that would change; swaps nothing.
- Afterwards the live-table record still says production, so `clob_incremental` writes to the
  restored tables and re-reads from each wallet's newest stored fill.
"""

from __future__ import annotations

from airflow.sdk import Param, dag

from clob_pipeline.dag_defaults import DAG_ARGS
from clob_pipeline.promotion.tasks import swap_flow


@dag(
    dag_id="clob_rollback",
    schedule=None,
    **DAG_ARGS,
    doc_md=__doc__,
    tags=["polymarket", "clickhouse", "promotion"],
    params={
        "dry_run": Param(False, type="boolean", title="Dry run", description="Print what would change; swap nothing."),
    },
)
def clob_rollback() -> None:
    swap_flow("rollback")


clob_rollback()
