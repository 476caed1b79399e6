"""Operator for the promotion / rollback swap: refuse if the validated tables changed, then run the
journaled swap (its last step records the new live tables and re-creates empty staging)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowFailException

from clob_pipeline.config import CLICKHOUSE_CONN_ID
from clob_pipeline.hooks.clickhouse import ClickHouseHook
from clob_pipeline.promotion.live import held_pause
from clob_pipeline.promotion.plan import TABLE_SETS
from clob_pipeline.promotion.swap import JournaledSwap, NeedsPersonError, SwapFailedError, SwapRefusedError, table_rows


class ClickHouseTableSwapOperator(BaseOperator):
    """Swap the bundle's table sets (``promote``: staging -> production; ``rollback``: *_old -> production).

    :param operation: ``promote`` or ``rollback``.
    :param plan: the plan task's output (templated / XComArg): ``incoming`` = per role the table
        that becomes production and its validated row count. The swap refuses if a count changed
        since (an ingestion run wrote after validation), leaving every table as it was.
    :param approval: (templated) the approval task's answer, when the DAG has one. The swap refuses
        unless it chose ``Approve``: an approval task marked success by hand in the UI answered
        nothing, and must not let the swap run unapproved.

    Runs only while this DAG run holds the ingestion pause. A retry of this task (after the worker
    died mid-swap) resumes the journal of the same run at once: forward when the validated tables
    are intact, else reversed (see ``JournaledSwap.recover``).
    """

    template_fields: Sequence[str] = ("plan", "approval")
    ui_color = "#ffe0e0"

    def __init__(
        self,
        *,
        operation: str,
        plan: Any,
        approval: Any = None,
        require_approval: bool = False,
        clickhouse_conn_id: str = CLICKHOUSE_CONN_ID,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.operation = operation
        self.plan = plan
        self.approval, self.require_approval = approval, require_approval
        self.clickhouse_conn_id = clickhouse_conn_id

    def execute(self, context: Any) -> dict[str, Any]:
        started = time.monotonic()
        run_id = context["run_id"]
        answer = self.approval if isinstance(self.approval, dict) else {}
        if self.require_approval and "Approve" not in (answer.get("chosen_options") or []):
            raise AirflowFailException(
                f"refusing to {self.operation}: approve_swap recorded no approval (its answer: {self.approval!r}); it was "
                "marked success by hand, or its answer is lost. Nothing was changed. Trigger the DAG again and approve "
                "the swap on the run's Required actions page (or trigger it with approval=auto)."
            )
        incoming: dict[str, dict[str, Any]] = self.plan["incoming"]
        with ClickHouseHook(self.clickhouse_conn_id) as ch:
            pause = held_pause(ch)
            if pause is None or pause.holder != run_id:
                held = pause.describe() if pause else "none held"
                raise AirflowFailException(
                    f"refusing to swap: this run does not hold the ingestion pause ({held}). "
                    "Nothing was changed; trigger the DAG again."
                )

            def unchanged_since_validation() -> None:
                now = {item["table"]: table_rows(ch, item["table"]) for item in incoming.values()}
                changed = {
                    item["table"]: (item["rows"], now[item["table"]])
                    for item in incoming.values()
                    if now[item["table"]] != item["rows"]
                }
                if changed:
                    detail = ", ".join(f"{t}: {a} -> {b} rows" for t, (a, b) in changed.items())
                    raise AirflowFailException(
                        f"refusing to swap: tables changed since they were validated ({detail}); an ingestion run "
                        "was still writing. Nothing was changed; trigger the DAG again."
                    )

            swap = JournaledSwap(ch, run_id, self.operation)
            try:
                steps = swap.run(
                    before_new_attempt=unchanged_since_validation,
                    validated={role: item["rows"] for role, item in incoming.items()},
                )
            except (SwapRefusedError, NeedsPersonError) as exc:  # retrying cannot help
                raise AirflowFailException(str(exc)) from exc
            except SwapFailedError as exc:
                self.log.error("%s", exc)
                raise
        if swap.direction == "reversed":
            raise AirflowFailException(
                f"{self.operation} {run_id}: the interrupted swap was REVERSED ({swap.reason}); every table is as "
                "before this run. Trigger the DAG again to validate and swap anew."
            )
        live = {s.role: s.production for s in TABLE_SETS}
        self.log.info(
            "%s %s: %d steps (attempt %d%s): %s; readers saw mixed roles for %.1f ms; live tables now %s in %.2fs",
            self.operation,
            run_id,
            len(steps),
            swap.attempt,
            f", resumed from the journal and finished {swap.direction} because {swap.reason}" if swap.resumed else "",
            "; ".join(s.describe() for s in steps),
            swap.mixed_window_s * 1000,
            live,
            time.monotonic() - started,
        )
        return {"steps": [s.describe() for s in steps], "attempt": swap.attempt, "live": live}
