"""Task builders shared by clob_promotion and clob_rollback: pause ingestion, plan, dry-run gate,
swap, verify, resume ingestion. Call them inside a DAG definition."""

from __future__ import annotations

from typing import Any

from airflow.sdk import TriggerRule, task
from airflow.sdk.exceptions import AirflowFailException

from clob_pipeline.config import CLICKHOUSE_POOL
from clob_pipeline.operators.table_swap import ClickHouseTableSwapOperator


def pause_ingestion_task(operation: str) -> Any:
    @task(task_id="pause_ingestion", pool=CLICKHOUSE_POOL)
    def pause_ingestion(**context: Any) -> str:
        """Hold the ingestion pause so no loader writes while tables are validated and swapped."""
        from clob_pipeline.hooks.clickhouse import ClickHouseHook
        from clob_pipeline.promotion.live import PauseHeldError, hold_pause

        run_id = context["run_id"]
        with ClickHouseHook() as ch:
            try:
                replaced = hold_pause(ch, run_id, f"{operation} in progress")
            except PauseHeldError as exc:
                raise AirflowFailException(f"cannot {operation}: {exc}. Nothing was changed.") from exc
        if replaced:
            print(f"WARNING took over an abandoned pause: {replaced.describe()}")
        print(f"ingestion paused by {run_id} for {operation}; clob_incremental skips its runs until resume_ingestion")
        return run_id

    return pause_ingestion()


def plan_task(operation: str) -> Any:
    @task(task_id=f"plan_{operation}", pool=CLICKHOUSE_POOL)
    def plan(**context: Any) -> dict[str, Any]:
        """Print the swap plan with table names and row counts; refuse (nothing changed) if impossible."""
        from clob_pipeline.hooks.clickhouse import ClickHouseHook
        from clob_pipeline.promotion.plan import TABLE_SETS
        from clob_pipeline.promotion.swap import PLANNERS, SwapRefusedError, table_catalog, table_rows

        with ClickHouseHook() as ch:
            catalog = table_catalog(ch)
            try:
                steps = PLANNERS[operation](catalog.keys())
            except SwapRefusedError as exc:
                raise AirflowFailException(f"{operation} refused: {exc}") from exc
            counts = {name: table_rows(ch, name) for name in sorted(catalog)}
            database = ch.bundle_database
        source = {"promote": "staging", "rollback": "old"}[operation]
        incoming = {s.role: {"table": getattr(s, source), "rows": counts[getattr(s, source)]} for s in TABLE_SETS}
        dry_run = bool(context["params"].get("dry_run"))
        print(f"{operation} plan for database {database}{' (DRY RUN: nothing will be swapped)' if dry_run else ''}:")
        for s in TABLE_SETS:
            print(
                f"  {s.role}: {incoming[s.role]['table']} ({incoming[s.role]['rows']} rows) becomes {s.production}; "
                f"now {s.production}={counts.get(s.production, 'missing')} rows, {s.old}={counts.get(s.old, 'missing')} rows"
            )
        for step in steps:
            print(f"  step {step.seq}: {step.describe()}{'' if step.visible else ' (clean-up, invisible to readers)'}")
        return {"operation": operation, "steps": [s.describe() for s in steps], "counts": counts, "incoming": incoming}

    return plan()


def dry_run_gate_task() -> Any:
    @task.short_circuit(task_id="unless_dry_run", ignore_downstream_trigger_rules=False)
    def unless_dry_run(**context: Any) -> bool:
        """Stop before the swap when ``dry_run`` is set (the pause is still released)."""
        dry_run = bool(context["params"].get("dry_run"))
        print("dry run: every check ran and the plan is above; nothing swapped" if dry_run else "not a dry run: swapping")
        return not dry_run

    return unless_dry_run()


def swap_task(operation: str, plan: Any) -> ClickHouseTableSwapOperator:
    return ClickHouseTableSwapOperator(task_id="swap_tables", operation=operation, plan=plan, pool=CLICKHOUSE_POOL)


def verify_task(plan: Any) -> Any:
    @task(task_id="verify_production", pool=CLICKHOUSE_POOL)
    def verify_production(plan: dict[str, Any]) -> dict[str, Any]:
        """Production now holds exactly the rows that were validated; log both tables' counts."""
        from clob_pipeline.hooks.clickhouse import ClickHouseHook
        from clob_pipeline.promotion.plan import TABLE_SETS
        from clob_pipeline.promotion.swap import table_catalog, table_rows

        with ClickHouseHook() as ch:
            catalog = table_catalog(ch)
            now = {name: table_rows(ch, name) for s in TABLE_SETS for name in (s.production, s.old) if name in catalog}
        wrong = [
            f"{s.production}: {now.get(s.production, 'missing')} rows, expected {plan['incoming'][s.role]['rows']}"
            for s in TABLE_SETS
            if now.get(s.production) != plan["incoming"][s.role]["rows"]
        ]
        line = ", ".join(f"{name}={rows}" for name, rows in now.items())
        if wrong:
            raise AirflowFailException(
                f"production does not hold the validated rows: {'; '.join(wrong)} (now {line}). "
                "Run clob_rollback to restore the previous production, then investigate."
            )
        print(f"verified {plan['operation']}: {line}")
        return now

    return verify_production(plan)


def resume_ingestion_task() -> Any:
    @task(task_id="resume_ingestion", pool=CLICKHOUSE_POOL, trigger_rule=TriggerRule.ALL_DONE)
    def resume_ingestion(**context: Any) -> bool:
        """Release the ingestion pause whatever happened upstream (the swap never leaves half a state)."""
        from clob_pipeline.hooks.clickhouse import ClickHouseHook
        from clob_pipeline.promotion.live import live_tables, release_pause

        with ClickHouseHook() as ch:
            released = release_pause(ch, context["run_id"])
            live = live_tables(ch)
        print(f"ingestion {'resumed' if released else 'was not paused by this run'}; live tables {live}")
        return released

    return resume_ingestion()


def swap_flow(operation: str, checks: list[Any] | None = None) -> None:
    """The whole promotion / rollback run: ensure_schema -> pause_ingestion -> [checks] -> plan ->
    unless_dry_run -> swap_tables -> verify_production -> resume_ingestion (always) -> run_outcome."""
    from clob_pipeline.dag_parts import ensure_schema_task, fail_run_if_any_task_failed

    plan = plan_task(operation)
    pause = ensure_schema_task() >> pause_ingestion_task(operation)
    if checks:
        pause >> checks >> plan
    else:
        pause >> plan
    verify = verify_task(plan)
    plan >> dry_run_gate_task() >> swap_task(operation, plan) >> verify
    resume = resume_ingestion_task()
    verify >> resume
    fail_run_if_any_task_failed(resume)
