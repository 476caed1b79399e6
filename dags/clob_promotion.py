"""
### clob_promotion — validate staging, then swap it into production (manual trigger)

On-call runbook: README, "Promote and roll back".

1. `pause_ingestion`: holds the ingestion pause (`pipeline_lock`), so `clob_incremental` skips its
   runs and no loader writes between validation and swap.
2. One check task per rule, each a SQL file in `include/sql/promotion/checks/`, failing with the
   numbers and up to 10 offending rows: no duplicate `fill_id` (read with FINAL), no empty
   `condition_id`/`proxy_wallet`/`user_eoa`, timestamps between `min_date` and now, at least
   `min_wallets` wallets with fills, at least `min_proxy_mappings` proxy-separated mappings, per-wallet
   row counts equal to the loaders' ledger.
3. `plan_promote`: prints the plan (tables, row counts, steps). With `dry_run` it stops here.
4. `swap_tables` (only if every check passed): refuses if staging changed since it was validated;
   then, journaled in `promotion_journal`, `EXCHANGE TABLES clob_fills_v2 AND clob_fills` (or RENAME
   when there is no production yet) and the same for `pm_user_proxy_wallets`; the previous
   production is kept as `*_old`. A failure between the two pairs reverses the first.
   The live-table record (`live_tables`) then points ingestion at production.
5. `verify_production`: production row counts equal the validated staging counts.
6. `resume_ingestion` (always runs): releases the pause.

A refused promotion (a failed check or a dry run) leaves every table untouched.
"""

from __future__ import annotations

from airflow.sdk import Param, dag

from clob_pipeline.config import CLICKHOUSE_POOL, STAGING_FILLS_TABLE, STAGING_PROXY_TABLE
from clob_pipeline.dag_defaults import DAG_ARGS
from clob_pipeline.operators.clickhouse_check import ClickHouseCheckOperator
from clob_pipeline.promotion.checks import PROMOTION_CHECKS
from clob_pipeline.promotion.tasks import swap_flow


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
    ]
    swap_flow("promote", checks)


clob_promotion()
