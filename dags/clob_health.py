"""
### clob_health — the alerts on-call relies on (daily at 07:00 UTC, and by hand)

Each check is a SQL file in `include/sql/health/` run on the **live** tables (staging before the
first promotion, production after), and fails with the table, the measured value, the threshold
and the next step:

- `check_fills_fresh`: newest `ingested_at` older than `max_age_hours` (24) → fail.
- `check_mapping_count`: live proxy-mapping count lower than the last count that passed → fail
  (data loss). `record_mapping_count` keeps the history in `health_mapping_counts`; a drop keeps
  failing until the mappings are restored, or a run with `accept_mapping_drop` takes the new count.
- `check_daily_fill_volume`: fills on the last complete UTC day vs the median of the 7 days before.
  A drop over `warn_drop_pct` (50 %) logs a WARNING line and succeeds; over `fail_drop_pct`
  (default 100 = never) it fails.
- `check_no_unfinished_swap`: a promotion or rollback is unfinished in `promotion_journal` (a worker
  died mid-swap) → fail, naming it. Readers may see one role promoted and the other not, and
  ingestion stays paused, until a `clob_promotion` / `clob_rollback` run finishes or reverses it.

A failing task posts to the `alerts_webhook` HTTP connection when it exists (skipped otherwise), as
in every DAG of the bundle.
Runbook: README, "Alerts".
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import Param, TriggerRule, dag, task

from clob_pipeline.config import CLICKHOUSE_POOL
from clob_pipeline.dag_defaults import DAG_ARGS
from clob_pipeline.dag_parts import ensure_schema_task
from clob_pipeline.operators.clickhouse_check import ClickHouseCheckOperator


@dag(
    dag_id="clob_health",
    schedule="0 7 * * *",
    **DAG_ARGS,
    render_template_as_native_obj=True,
    doc_md=__doc__,
    tags=["polymarket", "clickhouse", "health"],
    params={
        "max_age_hours": Param(24, type="integer", minimum=1, title="Fills stale after (hours)"),
        "warn_drop_pct": Param(50, type="number", minimum=0, maximum=100, title="Daily fills drop: warn above (%)"),
        "fail_drop_pct": Param(
            100, type="number", minimum=0, maximum=100, title="Daily fills drop: fail above (%)", description="100 = never fail."
        ),
        "accept_mapping_drop": Param(
            False, type="boolean", title="Accept a lower mapping count", description="Take the current count as the new baseline."
        ),
    },
)
def clob_health() -> None:
    @task(pool=CLICKHOUSE_POOL)
    def live_tables() -> dict[str, str]:
        """Which tables are live (read from ClickHouse, so the checks follow promotions and rollbacks)."""
        from clob_pipeline.hooks.clickhouse import ClickHouseHook
        from clob_pipeline.promotion.live import live_tables as read_live

        with ClickHouseHook() as ch:
            live = read_live(ch)
        print(f"live tables: {live}")
        return live

    live = live_tables()
    ensure_schema_task() >> live
    fills_table = "{{ ti.xcom_pull(task_ids='live_tables')['fills'] }}"
    proxy_table = "{{ ti.xcom_pull(task_ids='live_tables')['proxy'] }}"
    common: dict[str, Any] = {"pool": CLICKHOUSE_POOL}
    fresh = ClickHouseCheckOperator(
        task_id="check_fills_fresh",
        sql="health/fills_freshness.sql",
        parameters={"fills_table": fills_table, "max_age_hours": "{{ params.max_age_hours }}"},
        subject=fills_table,
        next_step="Ingestion has stopped: check that clob_incremental runs and succeeds (its summarize log names "
        "failing wallets), that the ingestion pause is not stuck (pipeline_lock), and the Polymarket connections.",
        **common,
    )
    mapping_params = {"proxy_table": proxy_table, "accept_drop": "{{ params.accept_mapping_drop | int }}"}
    mappings = ClickHouseCheckOperator(
        task_id="check_mapping_count",
        sql="health/mapping_count.sql",
        parameters=mapping_params,
        subject=proxy_table,
        next_step="Proxy mappings were lost. Find what deleted or replaced them (a promotion of a smaller staging set? "
        "clob_rollback restores the previous one), re-run pm_proxy_discovery, or if the drop is intended "
        "trigger clob_health with accept_mapping_drop=true.",
        **common,
    )

    @task(pool=CLICKHOUSE_POOL, trigger_rule=TriggerRule.ALL_DONE)
    def record_mapping_count(live: dict[str, str] | None, **context: Any) -> None:
        """Keep the mapping-count history whether or not the check passed (ALL_DONE), then fail the
        run if any check failed: this leaf must not turn a failed health run green."""
        from clob_pipeline.hooks.clickhouse import ClickHouseHook
        from clob_pipeline.run_state import fail_if_run_failed

        if live:
            parameters = {
                "proxy_table": live["proxy"],
                "accept_drop": int(context["params"]["accept_mapping_drop"]),
                "run_id": context["run_id"],
            }
            with ClickHouseHook() as ch:
                ch.run_sql_file("health/record_mapping_count.sql", parameters)
            print(f"recorded the mapping count of {live['proxy']} for run {context['run_id']}")
        fail_if_run_failed(context, "the mapping count was recorded" if live else "live_tables gave no tables")

    record = record_mapping_count(live)
    volume = ClickHouseCheckOperator(
        task_id="check_daily_fill_volume",
        sql="health/daily_fill_volume.sql",
        parameters={
            "fills_table": fills_table,
            "warn_drop_pct": "{{ params.warn_drop_pct }}",
            "fail_drop_pct": "{{ params.fail_drop_pct }}",
        },
        subject=fills_table,
        next_step="New fills per day fell sharply. Check clob_incremental's per-wallet counts and failed wallets, "
        "and whether tracked wallets disappeared from the mapping; a quiet market can also explain it.",
        **common,
    )
    swaps = ClickHouseCheckOperator(
        task_id="check_no_unfinished_swap",
        sql="health/unfinished_swaps.sql",
        parameters={},
        subject="promotion_journal",
        next_step="A promotion or rollback stopped mid-swap (named above): readers may see one role promoted and "
        "the other not, and ingestion is paused. Trigger the named DAG (clob_promotion or clob_rollback) now: its "
        "finish_unfinished task finishes the swap forward, or reverses it, and logs which. If that run is still "
        "running, let its swap_tables retry do it.",
        **common,
    )
    live >> [fresh, mappings, volume, swaps]
    mappings >> record


clob_health()
