"""
### clob_promotion — validate staging, then swap it into production (manual trigger)

On-call runbook: README, "Promote and roll back".

1. `pause_ingestion` (setup): holds the ingestion pause (`pipeline_lock`), so `clob_incremental`
   skips its runs and no loader writes between validation and swap. Takes over a pause whose run
   Airflow no longer runs; refuses while that run is queued or running.
2. `finish_unfinished`: an operation some run left half done (worker died mid-swap) is finished
   forward when its validated tables are intact, else reversed, before anything is checked or
   planned. Refuses while that run is alive. If it completed a promotion, there is nothing left to
   do and the rest is skipped.
3. One check task per rule, each a SQL file in `include/sql/promotion/checks/`, failing with the
   numbers and up to 10 offending rows: no duplicate `fill_id` (read with FINAL), no empty
   `condition_id`/`proxy_wallet`/`user_eoa`, timestamps between `min_date` and now, at least
   `min_wallets` wallets with fills, at least `min_proxy_mappings` proxy-separated mappings, per-wallet
   row counts equal to the loaders' ledger.
4. `plan_promote`: prints the plan (tables, row counts, steps). With `dry_run` it stops here.
5. `swap_tables` (only if every check passed): refuses if staging changed since it was validated;
   then, journaled in `promotion_journal`, `EXCHANGE TABLES clob_fills_v2 AND clob_fills` (or RENAME
   when there is no production yet) and, right after, the same for `pm_user_proxy_wallets`; the
   previous production is kept as `*_old`. An error between the two pairs reverses the first; a
   crash is finished (or reversed) by the task's retry. The last step points ingestion at
   production (`live_tables`) and re-creates empty staging.
6. `verify_production`: production row counts equal the validated staging counts.
7. `resume_ingestion` (teardown of the pause: runs even when a task failed or the run was marked
   failed): releases the pause. As the run's only leaf it then fails, quietly, unless the promotion
   completed (or was a dry run), so a run marked failed by hand stays red.

A refused promotion (a failed check or a dry run) leaves every table untouched.
"""

from __future__ import annotations

from airflow.sdk import Param, chain, dag

from clob_pipeline.config import CLICKHOUSE_POOL, STAGING_FILLS_TABLE, STAGING_PROXY_TABLE
from clob_pipeline.dag_defaults import DAG_ARGS
from clob_pipeline.dag_parts import ensure_schema_task
from clob_pipeline.operators.chain_reconcile import promotion_reconciliation_check
from clob_pipeline.operators.clickhouse_check import ClickHouseCheckOperator
from clob_pipeline.promotion import tasks as swap_tasks
from clob_pipeline.promotion.checks import PROMOTION_CHECKS


@dag(
    dag_id="clob_promotion",
    schedule=None,
    **DAG_ARGS,
    render_template_as_native_obj=True,
    doc_md=__doc__,
    tags=["polymarket", "clickhouse", "promotion"],
    params={
        "dry_run": Param(False, type="boolean", title="Dry run", description="Run every check and print the plan; swap nothing."),
        "min_wallets": Param(3, type="integer", minimum=1, title="Minimum wallets with fills"),
        "min_proxy_mappings": Param(5, type="integer", minimum=0, title="Minimum proxy-separated mappings"),
        "min_date": Param(
            "2020-01-01", type="string", format="date", title="Oldest allowed fill date", description="YYYY-MM-DD (UTC)."
        ),
        "max_future_skew_minutes": Param(5, type="integer", minimum=0, maximum=1440, title="Allowed clock skew (minutes)"),
        "reconcile_days": Param(7, type="integer", minimum=1, maximum=3650, title="Days reconciled against the chain"),
        "reconcile_tolerance": Param(0, type="integer", minimum=0, title="Fills a wallet may be off the chain"),
    },
)
def clob_promotion() -> None:
    thresholds = {
        "fills_table": STAGING_FILLS_TABLE,
        "proxy_table": STAGING_PROXY_TABLE,
        "min_wallets": "{{ params.min_wallets }}",
        "min_proxy_mappings": "{{ params.min_proxy_mappings }}",
        "min_date": "{{ params.min_date }}",
        "max_future_skew_s": "{{ params.max_future_skew_minutes * 60 }}",
    }
    pause = swap_tasks.pause_ingestion_task("promote")
    finished = swap_tasks.finish_unfinished_task("promote")
    checks = [
        ClickHouseCheckOperator(
            task_id=spec.task_id,
            sql=spec.sql,
            parameters=dict(thresholds),
            subject=spec.subject,
            next_step=spec.next_step,
            pool=CLICKHOUSE_POOL,
        )
        for spec in PROMOTION_CHECKS
    ] + [promotion_reconciliation_check(CLICKHOUSE_POOL)]  # staging against the chain (skipped without polygon_rpc)
    plan = swap_tasks.plan_task("promote")
    swap = swap_tasks.swap_task("promote", plan)
    verify = swap_tasks.verify_task(plan)
    resume = swap_tasks.resume_ingestion_task(pause)
    chain(ensure_schema_task(), pause, finished, checks, plan, swap_tasks.dry_run_gate_task(), swap, verify, resume)


clob_promotion()
