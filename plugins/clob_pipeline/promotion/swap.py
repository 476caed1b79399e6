"""Run a swap plan step by step with a journal in ClickHouse, so a failure never leaves one role
promoted and the other not.

- Every step is journaled (planned -> started -> done) with the tables' UUIDs before it. After a
  crash the journal plus the catalog (``system.tables``) tell which steps took effect.
- A visible step that fails makes the executor reverse the visible steps already done, in reverse
  order: readers end on the production they had. Then it raises, naming the step and the error.
- If reversing fails too, or the process died mid-way, the next attempt (an Airflow retry of the
  same run) resumes the journal *forward* and finishes the swap, which is equally consistent.
- Clean-up steps (drop the previous backup, park the previous production as ``*_old``) change
  nothing readers see; a failure there is resumed forward by the retry.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from clob_pipeline.promotion.plan import (
    Step,
    SwapRefusedError,
    all_table_names,
    expected_uuids,
    plan_promotion,
    plan_rollback,
    took_effect,
)

if TYPE_CHECKING:
    from clob_pipeline.hooks.clickhouse import ClickHouseHook

log = logging.getLogger(__name__)

PLANNERS = {"promote": plan_promotion, "rollback": plan_rollback}
STEP_SQL = {"exchange": "promotion/exchange.sql", "rename": "promotion/rename.sql", "drop": "promotion/drop.sql"}


class SwapFailedError(Exception):
    """A step failed; the message says what state the tables are in and what to do."""


def table_catalog(ch: ClickHouseHook) -> dict[str, str]:
    """name -> uuid of the promotion tables that exist now."""
    return dict(ch.query_file("promotion/table_uuids.sql", {"names": all_table_names()}))


def table_rows(ch: ClickHouseHook, table: str) -> int:
    """Rows readers see in ``table`` (count with FINAL)."""
    return int(ch.query_file("promotion/table_count.sql", {"table": table})[0][0])


class JournaledSwap:
    """Execute (or resume) one promotion / rollback, identified by ``op_id`` (the DAG run id)."""

    def __init__(self, ch: ClickHouseHook, op_id: str, operation: str) -> None:
        if operation not in PLANNERS:
            raise ValueError(f"operation must be one of {sorted(PLANNERS)}; got {operation!r}")
        self.ch = ch
        self.op_id = op_id
        self.operation = operation
        self.attempt = 0
        self.resumed = False

    # --- journal -----------------------------------------------------------------------------
    def _journal(self, step: Step, uuids: tuple[str, str], state: str, detail: str = "") -> None:
        self.ch.run_sql_file(
            "promotion/journal_write.sql",
            {
                "op_id": self.op_id,
                "attempt": self.attempt,
                "operation": self.operation,
                "seq": step.seq,
                "role": step.role,
                "action": step.action,
                "visible": int(step.visible),
                "table_a": step.table_a,
                "table_b": step.table_b,
                "uuid_a": uuids[0],
                "uuid_b": uuids[1],
                "state": state,
                "detail": detail[:2000],
            },
        )

    def _load_or_plan(
        self, before_new_attempt: Callable[[], None] | None
    ) -> tuple[list[Step], list[tuple[str, str]], dict[int, str]]:
        """Resume the latest attempt if it left anything done; else plan a new attempt."""
        attempts: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for row in self.ch.query_file_dicts("promotion/journal_read.sql", {"op_id": self.op_id}):
            attempts[row["attempt"]].append(row)
        if attempts:
            latest = max(attempts)
            rows = attempts[latest]
            if any(r["state"] in ("done", "started") for r in rows):  # not a clean abort: finish it
                self.attempt, self.resumed = latest, True
                steps = [Step(r["seq"], r["role"], r["action"], r["table_a"], r["table_b"], bool(r["visible"])) for r in rows]
                return steps, [(r["uuid_a"], r["uuid_b"]) for r in rows], {r["seq"]: r["state"] for r in rows}
            self.attempt = latest
        if before_new_attempt is not None:
            before_new_attempt()
        self.attempt += 1
        catalog = table_catalog(self.ch)
        steps = PLANNERS[self.operation](catalog.keys())
        uuids = expected_uuids(steps, catalog)
        for step, pair in zip(steps, uuids, strict=True):
            self._journal(step, pair, "planned")
        return steps, uuids, {s.seq: "planned" for s in steps}

    # --- execution ---------------------------------------------------------------------------
    def _execute(self, step: Step) -> None:
        """Run one step's SQL (tests override this to inject a failure between steps)."""
        self.ch.run_sql_file(STEP_SQL[step.action], {"table_a": step.table_a, "table_b": step.table_b})

    def run(self, before_new_attempt: Callable[[], None] | None = None) -> list[Step]:
        """Execute the plan; returns its steps. Raises ``SwapRefusedError`` (nothing changed) or ``SwapFailedError``.

        ``before_new_attempt`` runs before a fresh plan is made (not when resuming one), e.g. to
        check that the tables still hold what was validated; it raises to refuse.
        """
        steps, uuids, states = self._load_or_plan(before_new_attempt)
        if all(state == "done" for state in states.values()):
            log.info("%s %s: every step already done (attempt %d); nothing to do", self.operation, self.op_id, self.attempt)
            return steps
        if self.resumed:
            log.warning("%s %s: resuming attempt %d from the journal: %s", self.operation, self.op_id, self.attempt, states)
        finished_visible: list[tuple[Step, tuple[str, str]]] = []
        for step, pair in zip(steps, uuids, strict=True):
            if states.get(step.seq) == "done" or took_effect(step, *pair, table_catalog(self.ch)):
                if states.get(step.seq) != "done":
                    self._journal(step, pair, "done", "found done in the catalog on resume")
                if step.visible:
                    finished_visible.append((step, pair))
                continue
            self._journal(step, pair, "started")
            try:
                self._execute(step)
            except Exception as exc:
                self._fail(step, pair, exc, finished_visible)
            self._journal(step, pair, "done")
            log.info("%s %s: step %d done: %s", self.operation, self.op_id, step.seq, step.describe())
            if step.visible:
                finished_visible.append((step, pair))
        return steps

    def _fail(self, step: Step, pair: tuple[str, str], exc: Exception, finished: list[tuple[Step, tuple[str, str]]]) -> None:
        where = f"{self.operation} {self.op_id} step {step.seq} ({step.describe()})"
        if not step.visible:
            self._journal(step, pair, "failed", repr(exc))
            raise SwapFailedError(
                f"{where} failed: {exc}. Production already serves the new tables; only clean-up is left. "
                "Retry the task: it resumes from the journal."
            ) from exc
        if took_effect(step, *pair, table_catalog(self.ch)):
            finished = [*finished, (step, pair)]
        else:
            self._journal(step, pair, "failed", repr(exc))
        undone: list[str] = []
        try:
            for done_step, done_pair in reversed(finished):
                self._execute(done_step.inverse())
                self._journal(done_step, done_pair, "reverted", f"reversed after {where} failed: {exc!r}")
                undone.append(done_step.describe())
        except Exception as revert_exc:
            raise SwapFailedError(
                f"CRITICAL: {where} failed ({exc}) and reversing the finished steps failed too ({revert_exc}). "
                "Roles may be on different sides. Retry the swap task now: it resumes the journal forward and "
                "finishes the swap. Journal: SELECT * FROM promotion_journal FINAL WHERE op_id = "
                f"'{self.op_id}' ORDER BY attempt, seq."
            ) from exc
        raise SwapFailedError(
            f"{where} failed: {exc}. Reversed {len(undone)} finished step(s) ({'; '.join(undone) or 'none'}): "
            "every table is as before this run. Fix the cause, then trigger the DAG again."
        ) from exc


__all__ = ["JournaledSwap", "SwapFailedError", "SwapRefusedError", "table_catalog", "table_rows"]
