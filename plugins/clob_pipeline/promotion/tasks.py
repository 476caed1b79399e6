"""Task builders for clob_promotion and clob_rollback: pause ingestion (setup), finish what a crashed
run left half done, plan, audit, dry-run gate, approval, swap, verify, resume ingestion (teardown).
Each builds one task; the DAG files wire them, so each file shows its own graph."""

from __future__ import annotations

import time
from typing import Any

from airflow.sdk import setup, task, teardown
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

from clob_pipeline.config import CLICKHOUSE_POOL
from clob_pipeline.operators.swap_approval import SwapApprovalOperator
from clob_pipeline.operators.table_swap import ClickHouseTableSwapOperator
from clob_pipeline.promotion.journal import DAG_OF_OPERATION

# XCom key: how this run completed its operation. Pushed by the task that completes it (verify, the
# dry-run gate, or a take-over that finished this very operation); read by ``resume_ingestion``.
OUTCOME = "outcome"
# Each completing task and the state it ends in when it completed the run's operation. An outcome
# counts only while its task is in that state: clearing a run keeps old XComs until a task runs again.
COMPLETING_TASKS = {"finish_unfinished": "skipped", "unless_dry_run": "success", "verify_production": "success"}


def dag_run_state(ti: Any, run_id: str, dag_ids: tuple[str, ...] = tuple(DAG_OF_OPERATION.values())) -> str | None:
    """Airflow's own record of ``run_id`` (a run of one of ``dag_ids``): its state, or None if no such run.

    A missing run comes back as a 404: an ``AirflowRuntimeError`` from a worker's supervisor, the
    API client's ``ServerResponseError`` itself when the task runs in-process (``dags test``).
    """
    from airflow.sdk.api.client import ServerResponseError
    from airflow.sdk.exceptions import AirflowRuntimeError

    for dag_id in dag_ids:
        try:
            state = ti.get_dagrun_state(dag_id=dag_id, run_id=run_id)
        except ServerResponseError as exc:
            if exc.response.status_code == 404:
                continue
            raise
        except AirflowRuntimeError as exc:
            if "not_found" in str(exc) or "404" in str(exc):
                continue
            raise
        return str(getattr(state, "value", state))
    return None


def pause_ingestion_task(operation: str) -> Any:
    @setup
    @task(task_id="pause_ingestion", pool=CLICKHOUSE_POOL)
    def pause_ingestion(**context: Any) -> str:
        """Hold the ingestion pause so no loader writes while tables are validated and swapped; take it
        over from a run Airflow no longer runs. Its teardown ``resume_ingestion`` releases it."""
        from clob_pipeline.hooks.clickhouse import ClickHouseHook
        from clob_pipeline.promotion.live import PauseHeldError, hold_pause

        run_id, ti = context["run_id"], context["ti"]
        with ClickHouseHook() as ch:
            try:
                replaced = hold_pause(ch, run_id, f"{operation} in progress", lambda holder: dag_run_state(ti, holder))
            except PauseHeldError as exc:
                raise AirflowFailException(f"cannot {operation}: {exc}. Nothing was changed.") from exc
        if replaced:
            print(f"WARNING took over an abandoned pause: {replaced.describe()}")
        print(f"ingestion paused by {run_id} for {operation}; clob_incremental skips its runs until resume_ingestion")
        return run_id

    return pause_ingestion()


def finish_unfinished_task(operation: str) -> Any:
    @task(task_id="finish_unfinished", pool=CLICKHOUSE_POOL)
    def finish_unfinished(**context: Any) -> list[str]:
        """Before this run checks or plans anything: finish forward, or reverse, every operation some
        run left half done (a worker died mid-swap), unless Airflow says that run is still alive."""
        from clob_pipeline.hooks.clickhouse import ClickHouseHook
        from clob_pipeline.promotion.swap import NeedsPersonError, OperationAliveError
        from clob_pipeline.promotion.swap import finish_unfinished as take_over

        ti = context["ti"]
        with ClickHouseHook() as ch:
            try:
                recovered = take_over(ch, context["run_id"], lambda op: dag_run_state(ti, op.op_id, (op.dag_id,)))
            except (OperationAliveError, NeedsPersonError) as exc:  # retrying cannot help
                raise AirflowFailException(f"cannot {operation}: {exc}") from exc
        for done in recovered:
            print(f"took over {done.describe()}")
        ours = [r for r in recovered if r.op.operation == operation and r.direction == "forward"]
        if ours:
            ti.xcom_push(key=OUTCOME, value=f"{operation} {ours[-1].op.op_id} finished forward by this run")
            raise AirflowSkipException(
                f"{operation} {ours[-1].op.op_id} is now complete (finished forward): that is the {operation} this run "
                "was asked for, so nothing is left to do; checks, plan and swap are skipped"
            )
        print(f"finish_unfinished: {len(recovered)} interrupted operation(s) taken over; the catalog is consistent")
        return [r.describe() for r in recovered]

    return finish_unfinished()


def plan_task(operation: str) -> Any:
    @task(task_id=f"plan_{operation}", pool=CLICKHOUSE_POOL)
    def plan(**context: Any) -> dict[str, Any]:
        """Print the swap plan with table names and row counts; refuse (nothing changed) if impossible."""
        from clob_pipeline.hooks.clickhouse import ClickHouseHook
        from clob_pipeline.promotion.plan import TABLE_SETS
        from clob_pipeline.promotion.swap import SwapRefusedError, plan_for, table_catalog, table_rows

        with ClickHouseHook() as ch:
            catalog = table_catalog(ch)
            try:
                steps = plan_for(ch, operation, catalog.keys())
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


def audit_task(operation: str) -> Any:
    @task(task_id=f"audit_{operation}", pool=CLICKHOUSE_POOL)
    def audit(**context: Any) -> dict[str, Any]:
        """Measure what the swap will change (include/sql/audit/), write the HTML report for this run
        and log its markdown summary; the XCom holds the verdict, the report's URL and the summary
        (the approval's body)."""
        from clob_pipeline.hooks.clickhouse import ClickHouseHook
        from clob_pipeline.promotion.audit import AuditTables, markdown_summary, measure
        from clob_pipeline.promotion.report import render_report, write_report
        from clob_pipeline.promotion.swap import table_catalog

        started, ti, run_id = time.monotonic(), context["ti"], context["run_id"]
        checks = check_numbers(context)
        with ClickHouseHook() as ch:
            audit = measure(ch, AuditTables.for_operation(operation, table_catalog(ch)), checks)
        url = write_report(render_report(audit, run_id), ti.dag_id, run_id)
        summary = markdown_summary(audit, url)
        verdict = audit["verdict"]
        print(summary)
        print(f"audit verdict: {verdict['level'].upper()}: {verdict['headline']}")
        print(f"audit report: {url}")
        print(
            f"audit_{operation}: {verdict['level'].upper()}: {verdict['headline']}; {verdict['numbers']}; "
            f"report {url} ({time.monotonic() - started:.1f}s)"
        )
        return {
            "verdict": verdict["level"],
            "headline": verdict["headline"],
            "report": url,
            "summary_md": summary,
            "totals": audit["totals"],
        }

    return audit()


def check_numbers(context: Any) -> dict[str, Any]:
    """Each ``check_*`` task of this run: its measured numbers (XCom), or its state if it did not pass."""
    from clob_pipeline.run_state import run_task_states

    ti, states = context["ti"], run_task_states(context)
    check_ids = sorted(task_id for task_id in context["dag"].task_ids if task_id.startswith("check_"))
    return {
        task_id: ti.xcom_pull(task_ids=task_id) if str(states.get(task_id)) == "success" else str(states.get(task_id))
        for task_id in check_ids
    }


QUESTION = {"promote": "Promote staging to production?", "rollback": "Roll production back to *_old?"}


def approval_task(operation: str) -> SwapApprovalOperator:
    """On-call approves the audited swap (unless Param ``approval`` is ``auto``); body = the audit's summary."""
    audit = f"ti.xcom_pull(task_ids='audit_{operation}')"
    return SwapApprovalOperator(
        task_id="approve_swap",
        operation=operation,
        subject=f"{QUESTION[operation]} Audit verdict: {{{{ {audit}['verdict'] | upper }}}}",
        body=(
            f"{{{{ {audit}['summary_md'] }}}}\n\n"
            f"**Approve** swaps now. **Reject**, or no answer within {{{{ params.approval_timeout_minutes }}}} minutes, "
            "ends the run red with nothing swapped; ingestion resumes either way."
        ),
    )


def dry_run_gate_task() -> Any:
    @task.short_circuit(task_id="unless_dry_run", ignore_downstream_trigger_rules=False)
    def unless_dry_run(**context: Any) -> bool:
        """Stop before the swap when ``dry_run`` is set (the pause is still released)."""
        dry_run = bool(context["params"].get("dry_run"))
        print("dry run: every check ran and the plan is above; nothing swapped" if dry_run else "not a dry run: swapping")
        if dry_run:
            context["ti"].xcom_push(key=OUTCOME, value="dry run: every check passed, nothing swapped")
        return not dry_run

    return unless_dry_run()


def swap_task(operation: str, plan: Any, approved: bool = False) -> ClickHouseTableSwapOperator:
    """``approved``: the DAG has ``approve_swap``; the swap then refuses unless that task's answer is Approve
    (not a task marked success by hand)."""
    return ClickHouseTableSwapOperator(
        task_id="swap_tables",
        operation=operation,
        plan=plan,
        approval="{{ ti.xcom_pull(task_ids='approve_swap') }}" if approved else None,
        require_approval=approved,
        pool=CLICKHOUSE_POOL,
    )


def verify_task(plan: Any) -> Any:
    @task(task_id="verify_production", pool=CLICKHOUSE_POOL)
    def verify_production(plan: dict[str, Any], **context: Any) -> dict[str, Any]:
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
        context["ti"].xcom_push(key=OUTCOME, value=f"{plan['operation']} verified: {line}")
        return now

    return verify_production(plan)


def resume_ingestion_task(pause: Any) -> Any:
    @teardown(on_failure_fail_dagrun=True)
    @task(task_id="resume_ingestion", pool=CLICKHOUSE_POOL)
    def resume_ingestion(holder: str | None, **context: Any) -> bool:
        """Release the ingestion pause whatever happened upstream (teardown: it runs even when a task
        failed or the run was marked failed). Ingestion still stays away while an operation is unfinished.
        Then, as the run's only leaf (``on_failure_fail_dagrun``), fail unless the operation completed:
        quietly when another task failed (it alerted), and when no task failed because on-call marked
        the run failed by hand (Airflow would otherwise end that run green)."""
        from clob_pipeline.hooks.clickhouse import ClickHouseHook
        from clob_pipeline.promotion.live import ingestion_pause, live_tables, release_pause
        from clob_pipeline.run_state import RunStoppedError, fail_if_run_failed, run_task_states

        ti = context["ti"]
        with ClickHouseHook() as ch:
            released = release_pause(ch, context["run_id"])
            live = live_tables(ch)
            still = ingestion_pause(ch)
        pause_line = f"ingestion {'resumed' if released else 'was not paused by this run'}"
        print(f"{pause_line}; live tables {live}" + (f"; ingestion still skips: {still.describe()}" if still else ""))
        # With on_failure_fail_dagrun this teardown is the run's only leaf: its state is the run's colour.
        # A failed task decides first, whatever an older outcome says.
        states = run_task_states(context)
        fail_if_run_failed(context, pause_line, states)
        outcomes = [
            outcome
            for task_id, completed_state in COMPLETING_TASKS.items()
            if str(states.get(task_id)) == completed_state and (outcome := ti.xcom_pull(task_ids=task_id, key=OUTCOME))
        ]
        if outcomes:
            print(f"{ti.dag_id} completed: {'; '.join(outcomes)}")
            return released
        swapped = str(states.get("swap_tables")) == "success"
        raise RunStoppedError(
            f"{ti.dag_id} {context['run_id']} did not complete although no task failed: it was marked failed by hand, "
            f"so Airflow skipped its pending tasks ({pause_line}; live tables {live}). "
            + (
                "swap_tables had finished, so the swap is done but verify_production was skipped: compare the plan's "
                "counts with the live tables, and run clob_rollback if they differ."
                if swapped
                else f"Nothing was swapped. Trigger {ti.dag_id} again when ready."
            )
        )

    return resume_ingestion(pause)
