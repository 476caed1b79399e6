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
4. `plan_promote`: prints the plan (tables, row counts, steps).
5. `audit_promote`: what the swap will change, measured by ClickHouse (`include/sql/audit/`): per
   wallet fills added and removed, first/last fill and USDC volume; mappings added, removed or
   re-typed; fills per day of staging and production; each check's numbers. Writes a
   self-contained HTML report (verdict first, charts) through Airflow's object storage
   (`CLOB_PIPELINE_REPORTS_URL`, default a folder under AIRFLOW_HOME), logs its URL and a markdown
   summary, and returns both in its XCom. With `dry_run` the run stops after it (`unless_dry_run`).
6. `approve_swap`: with `approval: required` (the default) the run waits, on its "Required actions"
   page, for on-call to approve or reject the swap; the body is the audit's summary and the report's
   URL. A rejection, or no answer within `approval_timeout_minutes`, fails it: nothing is swapped and
   the run ends red. `approval: auto` approves without asking (scripted runs) and logs so.
7. `swap_tables` (only if every check passed and the swap was approved): refuses if staging changed
   since it was validated; then, journaled in `promotion_journal`, `EXCHANGE TABLES clob_fills_v2 AND
   clob_fills` (or RENAME when there is no production yet) and, right after, the same for
   `pm_user_proxy_wallets`; the previous production is kept as `*_old`. An error between the two
   pairs reverses the first; a crash is finished (or reversed) by the task's retry. The last step
   points ingestion at production (`live_tables`) and re-creates empty staging.
8. `verify_production`: production row counts equal the validated staging counts.
9. `resume_ingestion` (teardown of the pause: runs even when a task failed or the run was marked
   failed): releases the pause. As the run's only leaf it then fails, quietly, unless the promotion
   completed (or was a dry run), so a run marked failed by hand stays red.

A refused promotion (a failed check, a rejection, a timeout or a dry run) leaves every table untouched.
"""

from __future__ import annotations

from airflow.sdk import Param, chain, dag

from clob_pipeline.config import (
    APPROVAL_TIMEOUT_MAX_MINUTES,
    APPROVAL_TIMEOUT_MINUTES,
    CLICKHOUSE_POOL,
    STAGING_FILLS_TABLE,
    STAGING_PROXY_TABLE,
)
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
        "approval": Param(
            "required",
            type="string",
            enum=["required", "auto"],
            title="Approval before the swap",
            description="required: the run waits on its Required actions page until on-call approves the audited swap. "
            "auto: approve without asking (scripted runs such as make demo); the log says so. A dry run never asks.",
        ),
        "approval_timeout_minutes": Param(
            APPROVAL_TIMEOUT_MINUTES,
            type="integer",
            minimum=1,
            maximum=APPROVAL_TIMEOUT_MAX_MINUTES,
            title="Approval timeout (minutes)",
            description="No answer by then ends the run red with nothing swapped (it must end well before the "
            "ingestion pause counts as abandoned).",
        ),
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
    audit = swap_tasks.audit_task("promote")
    gate = swap_tasks.dry_run_gate_task()
    approval = swap_tasks.approval_task("promote")
    swap = swap_tasks.swap_task("promote", plan, approved=True)
    verify = swap_tasks.verify_task(plan)
    resume = swap_tasks.resume_ingestion_task(pause)
    chain(ensure_schema_task(), pause, finished, checks, plan, audit, gate, approval, swap, verify, resume)


clob_promotion()
