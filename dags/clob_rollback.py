"""
### clob_rollback — put the previous production back (manual trigger)

On-call runbook: README, "Promote and roll back".

Restores `clob_fills_old` / `pm_user_proxy_wallets_old` as production and moves the current
production aside to `*_old` (so a second rollback re-does the promotion), with the same
journaled `EXCHANGE TABLES` swap as `clob_promotion`, under the same ingestion pause:
`pause_ingestion` (setup) -> `finish_unfinished` (a half-done operation is finished or reversed
first; if it completed a rollback the rest is skipped) -> `plan_rollback` -> `audit_rollback` (the same
audit and report as `clob_promotion`'s, of what the rollback restores: `*_old` against production) ->
`unless_dry_run` -> `swap_tables` -> `verify_production` -> `resume_ingestion` (teardown: releases the pause, then, as the
run's only leaf, fails quietly unless the rollback completed, so a run marked failed by hand stays red).

- Refuses, changing nothing, when there is no `*_old` backup (no promotion has replaced a
  production yet).
- `dry_run`: prints the tables and row counts that would change and writes the audit report; swaps nothing.
- No approval step: the person who triggers a rollback has decided; the audit's log and report say
  what it restored.
- Afterwards the live-table record still says production, so `clob_incremental` writes to the
  restored tables and re-reads from each wallet's newest stored fill.
"""

from __future__ import annotations

from airflow.sdk import Param, chain, dag

from clob_pipeline.dag_defaults import DAG_ARGS
from clob_pipeline.dag_parts import ensure_schema_task
from clob_pipeline.promotion import tasks as swap_tasks


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
    pause = swap_tasks.pause_ingestion_task("rollback")
    finished = swap_tasks.finish_unfinished_task("rollback")
    plan = swap_tasks.plan_task("rollback")
    audit = swap_tasks.audit_task("rollback")
    swap = swap_tasks.swap_task("rollback", plan)
    verify = swap_tasks.verify_task(plan)
    resume = swap_tasks.resume_ingestion_task(pause)
    chain(ensure_schema_task(), pause, finished, plan, audit, swap_tasks.dry_run_gate_task(), swap, verify, resume)


clob_rollback()
