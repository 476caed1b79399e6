"""Run a swap plan step by step with a journal in ClickHouse, so a failure or a crash never leaves one
role promoted and the other not for longer than it takes the next attempt to start.

- Every step is journaled (planned -> started -> done) with the tables' UUIDs before it and, on a
  visible step, the row count validated for the table it makes production.
- The visible steps (what readers of the production names see change) run back to back: their
  ``started`` rows are written first and their ``done`` rows after, so no journal write sits
  between two visible statements. That gap is the only time readers can see mixed roles.
- A visible step that fails with an error makes the executor reverse the visible steps already
  done: readers end on the production they had. Then it raises, naming the step and the error.
- An operation interrupted any other way (the process died, reversing failed) stays *unfinished*
  in the journal. Whoever comes next, the task's retry (same ``op_id``) or a new run (``recover``),
  finds from the journal and the catalog (``plan.position``) how far it got, then finishes it
  forward when the validated tables are intact (same UUID, same row count), or reverses it.
- No new plan is made while any operation is unfinished, so nothing plans from a half-swapped catalog.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from clob_pipeline.config import STAGING_FILLS_TABLE, STAGING_PROXY_TABLE
from clob_pipeline.promotion.journal import Unfinished, unfinished_operations
from clob_pipeline.promotion.live import ALIVE_RUN_STATES
from clob_pipeline.promotion.plan import (
    TABLE_SETS,
    Step,
    SwapRefusedError,
    all_table_names,
    expected_uuids,
    plan_promotion,
    plan_rollback,
    position,
    took_effect,
)

if TYPE_CHECKING:
    from clob_pipeline.hooks.clickhouse import ClickHouseHook

log = logging.getLogger(__name__)

PLANNERS = {"promote": plan_promotion, "rollback": plan_rollback}
STEP_SQL = {"exchange": "promotion/exchange.sql", "rename": "promotion/rename.sql", "drop": "promotion/drop.sql"}
STAGING_SCHEMA_FILES = ("schema/fills_table.sql", "schema/proxy_table.sql")
OPEN_STATES = ("started", "done")


class SwapFailedError(Exception):
    """A step failed; the message says what state the tables are in and what to do."""


class NeedsPersonError(SwapFailedError):
    """The tables no longer match the journal (changed by hand): no retry can help."""


class OperationAliveError(Exception):
    """An unfinished operation belongs to a run Airflow still runs: only that run may finish it."""


def table_catalog(ch: ClickHouseHook) -> dict[str, str]:
    """name -> uuid of the promotion tables that exist now."""
    return dict(ch.query_file("promotion/table_uuids.sql", {"names": all_table_names()}))


def table_rows(ch: ClickHouseHook, table: str) -> int:
    """Rows readers see in ``table`` (count with FINAL)."""
    return int(ch.query_file("promotion/table_count.sql", {"table": table})[0][0])


def plan_for(ch: ClickHouseHook, operation: str, catalog: Collection[str], op_id: str = "") -> list[Step]:
    """The plan for ``operation`` on ``catalog``; refused while any other operation is unfinished."""
    others = [u for u in unfinished_operations(ch) if u.op_id != op_id]
    if others:
        raise SwapRefusedError(
            f"{others[0].describe()} is unfinished, so the catalog may be half swapped; it must be finished or "
            f"reversed first (trigger {others[0].dag_id}: its finish_unfinished task does it). Nothing was changed."
        )
    return PLANNERS[operation](catalog)


def is_open(states: Collection[str]) -> bool:
    """An attempt that changed something (a step started or done) and did not complete every step."""
    return any(s in OPEN_STATES for s in states) and not all(s == "done" for s in states)


class JournaledSwap:
    """Execute, resume or take over one promotion / rollback, identified by ``op_id`` (the DAG run id)."""

    def __init__(self, ch: ClickHouseHook, op_id: str, operation: str) -> None:
        if operation not in PLANNERS:
            raise ValueError(f"operation must be one of {sorted(PLANNERS)}; got {operation!r}")
        self.ch = ch
        self.op_id = op_id
        self.operation = operation
        self.attempt = 0
        self.resumed = False
        self.direction = ""  # forward / reversed, when an interrupted attempt was recovered
        self.reason = ""
        self.mixed_window_s = 0.0  # time between the first and the last visible statement of this call
        self.validated: dict[int, int] = {}  # seq -> validated rows (visible steps)

    # --- statements --------------------------------------------------------------------------
    def _statement(self, name: str, parameters: Mapping[str, Any]) -> None:
        """Every write of the swap goes through here (tests kill the process after any of them)."""
        self.ch.run_sql_file(name, parameters)

    def _journal(self, step: Step, uuids: tuple[str, str], state: str, detail: str = "") -> None:
        self._statement(
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
                "validated_rows": self.validated.get(step.seq, -1),
                "state": state,
                "detail": detail[:2000],
            },
        )

    def _execute(self, step: Step) -> None:
        """Run one step's SQL (tests override this to inject a failure at a step)."""
        if step.action == "finish":
            self._finish()
        else:
            self._statement(STEP_SQL[step.action], {"table_a": step.table_a, "table_b": step.table_b})

    def _finish(self) -> None:
        """Point ingestion at production and re-create the staging tables a promotion moved away (empty)."""
        for s in TABLE_SETS:
            self._statement("promotion/live_tables_write.sql", {"role": s.role, "table_name": s.production, "set_by": self.op_id})
        for name in STAGING_SCHEMA_FILES:
            self._statement(name, {"fills_table": STAGING_FILLS_TABLE, "proxy_table": STAGING_PROXY_TABLE})

    # --- journal -----------------------------------------------------------------------------
    def _latest_attempt(self) -> tuple[list[Step], list[tuple[str, str]], dict[int, str]]:
        """The latest attempt's steps, pre-step uuids and states (empty if this op never planned)."""
        attempts: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for row in self.ch.query_file_dicts("promotion/journal_read.sql", {"op_id": self.op_id}):
            attempts[row["attempt"]].append(row)
        if not attempts:
            return [], [], {}
        self.attempt = max(attempts)
        rows = attempts[self.attempt]
        self.validated = {r["seq"]: int(r["validated_rows"]) for r in rows if r["validated_rows"] >= 0}
        steps = [Step(r["seq"], r["role"], r["action"], r["table_a"], r["table_b"], bool(r["visible"])) for r in rows]
        return steps, [(r["uuid_a"], r["uuid_b"]) for r in rows], {r["seq"]: r["state"] for r in rows}

    # --- entry points ------------------------------------------------------------------------
    def run(self, before_new_attempt: Callable[[], None] | None = None, validated: Mapping[str, int] | None = None) -> list[Step]:
        """Execute the plan, or resume this op's interrupted attempt; returns the steps.

        Raises ``SwapRefusedError`` (nothing changed) or ``SwapFailedError``. ``before_new_attempt``
        runs before a fresh plan is made (not when resuming one), e.g. to check that the tables
        still hold what was validated; it raises to refuse. ``validated``: role -> rows validated
        for the table that becomes production (counted here when not given).
        """
        steps, uuids, states = self._latest_attempt()
        if states and is_open(states.values()):
            self.recover()
            return steps
        if states and all(s == "done" for s in states.values()):
            log.info("%s %s: every step already done (attempt %d); nothing to do", self.operation, self.op_id, self.attempt)
            return steps
        if before_new_attempt is not None:
            before_new_attempt()
        catalog = table_catalog(self.ch)
        steps = plan_for(self.ch, self.operation, catalog.keys(), self.op_id)
        uuids = expected_uuids(steps, catalog)
        by_uuid = {u: name for name, u in catalog.items()}
        self.attempt += 1
        self.validated = {
            s.seq: int(validated[s.role]) if validated else table_rows(self.ch, by_uuid[s.incoming(pair)])
            for s, pair in zip(steps, uuids, strict=True)
            if s.visible
        }
        for step, pair in zip(steps, uuids, strict=True):
            self._journal(step, pair, "planned")
        self._forward(steps, uuids, {s.seq: "planned" for s in steps}, 0)
        return steps

    def recover(self) -> str:
        """Finish this op's interrupted attempt forward if the validated tables are intact, else reverse
        it. Returns ``forward``, ``reversed`` or ``""`` (nothing was interrupted)."""
        steps, uuids, states = self._latest_attempt()
        if not is_open(states.values()):
            return ""
        self.resumed = True
        catalog = table_catalog(self.ch)
        done = position(steps, uuids, catalog)
        if done is None:
            raise NeedsPersonError(
                f"CRITICAL: {self.operation} {self.op_id} attempt {self.attempt} is unfinished and the catalog "
                f"({catalog}) matches no point of its journal: tables were changed by hand. Nothing was changed now. "
                "Compare with SELECT * FROM promotion_journal FINAL WHERE op_id = "
                f"'{self.op_id}' ORDER BY attempt, seq, and put each table back by hand."
            )
        intact, self.reason = self._validated_intact(steps, uuids, catalog)
        visible_count = sum(s.visible for s in steps)
        if intact or done > visible_count:
            if not intact:
                self.reason += f"; yet clean-up already ran ({done} steps done), so only forward is possible"
            log.warning(
                "%s %s: FORWARD from step %d of attempt %d: %s", self.operation, self.op_id, done + 1, self.attempt, self.reason
            )
            self.direction = "forward"
            self._forward(steps, uuids, states, done)
        else:
            log.warning(
                "%s %s: REVERSING %d done step(s) of attempt %d: %s", self.operation, self.op_id, done, self.attempt, self.reason
            )
            self.direction = "reversed"
            self._reverse(list(zip(steps[:done], uuids[:done], strict=True)), steps, uuids, states, catalog)
        return self.direction

    # --- recovery ----------------------------------------------------------------------------
    def _validated_intact(self, steps: list[Step], uuids: list[tuple[str, str]], catalog: Mapping[str, str]) -> tuple[bool, str]:
        """Whether every table about to become production still has the uuid and the rows validated."""
        by_uuid = {u: name for name, u in catalog.items()}
        seen: list[str] = []
        for step, pair in zip(steps, uuids, strict=True):
            if step.seq not in self.validated:
                continue
            name = by_uuid.get(step.incoming(pair))
            if name is None:
                return False, f"the validated {step.role} table (uuid {step.incoming(pair)}) no longer exists"
            rows = table_rows(self.ch, name)
            if rows != self.validated[step.seq]:
                return False, f"{name} holds {rows} rows but {self.validated[step.seq]} were validated"
            seen.append(f"{name}={rows}")
        return True, f"validated tables intact ({', '.join(seen)} rows, as validated)"

    def _reverse(
        self,
        done: list[tuple[Step, tuple[str, str]]],
        steps: list[Step],
        uuids: list[tuple[str, str]],
        states: dict[int, str],
        catalog: Mapping[str, str],
    ) -> None:
        """Undo the done visible steps, newest first; then close the attempt (nothing left open)."""
        for step, pair in reversed(done):
            inverse = step.inverse()
            if inverse.action == "rename" and inverse.table_b in catalog:
                # ensure_schema re-created staging under the name the rename gives back: drop it if empty.
                if table_rows(self.ch, inverse.table_b):
                    raise NeedsPersonError(
                        f"CRITICAL: cannot reverse {step.describe()} of {self.operation} {self.op_id}: "
                        f"{inverse.table_b} exists again and holds rows. Move it aside by hand, then trigger again."
                    )
                self._statement(STEP_SQL["drop"], {"table_a": inverse.table_b, "table_b": ""})
            self._execute(inverse)
            self._journal(step, pair, "reverted", f"reversed on recovery: {self.reason}")
        self._cancel_open(steps, uuids, states, {s.seq for s, _ in done})

    def _cancel_open(self, steps: list[Step], uuids: list[tuple[str, str]], states: dict[int, str], skip: set[int]) -> None:
        for step, pair in zip(steps, uuids, strict=True):
            if step.seq not in skip and states.get(step.seq) in OPEN_STATES:
                self._journal(step, pair, "cancelled", "never ran: the attempt was reversed")

    # --- execution ---------------------------------------------------------------------------
    def _forward(self, steps: list[Step], uuids: list[tuple[str, str]], states: dict[int, str], done: int) -> None:
        """Run steps ``done+1..``: the remaining visible steps back to back, then clean-up and finish."""
        pairs = list(zip(steps, uuids, strict=True))
        finished = [(s, p) for s, p in pairs[:done] if s.visible]
        visible = [(s, p) for s, p in pairs[done:] if s.visible]
        for step, pair in visible:
            if states.get(step.seq) != "started":
                self._journal(step, pair, "started")
        first = time.monotonic()
        for step, pair in visible:
            try:
                self._execute(step)
            except Exception as exc:
                self._fail(step, pair, exc, finished, steps, uuids)
            finished.append((step, pair))
        if finished:
            self.mixed_window_s = time.monotonic() - first if len(visible) > 1 else 0.0
        for step, pair in pairs[:done] + visible:
            if states.get(step.seq) != "done":
                self._journal(step, pair, "done", "" if (step, pair) in visible else "found done in the catalog")
        for step, pair in pairs[done:]:
            if step.visible:
                continue
            self._journal(step, pair, "started")
            try:
                self._execute(step)
            except Exception as exc:
                self._fail(step, pair, exc, finished, steps, uuids)
            self._journal(step, pair, "done")
            log.info("%s %s: step %d done: %s", self.operation, self.op_id, step.seq, step.describe())

    def _fail(
        self,
        step: Step,
        pair: tuple[str, str],
        exc: Exception,
        finished: list[tuple[Step, tuple[str, str]]],
        steps: list[Step],
        uuids: list[tuple[str, str]],
    ) -> None:
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
            closed = {s.seq for s, _ in finished} | {step.seq}
            self._cancel_open(steps, uuids, {s.seq: "started" for s in steps if s.visible}, closed)
        except Exception as revert_exc:
            raise SwapFailedError(
                f"CRITICAL: {where} failed ({exc}) and reversing the finished steps failed too ({revert_exc}). "
                "Roles may be on different sides. Retry the swap task now (or trigger the DAG again): the journal "
                "is finished forward or reversed. Journal: SELECT * FROM promotion_journal FINAL WHERE op_id = "
                f"'{self.op_id}' ORDER BY attempt, seq."
            ) from exc
        raise SwapFailedError(
            f"{where} failed: {exc}. Reversed {len(undone)} finished step(s) ({'; '.join(undone) or 'none'}): "
            "every table is as before this run. Fix the cause, then trigger the DAG again."
        ) from exc


@dataclass(frozen=True)
class Recovered:
    """One interrupted operation taken over: which way it went, why, and the state of its run."""

    op: Unfinished
    direction: str
    reason: str
    run_state: str | None

    def describe(self) -> str:
        run = self.run_state or "unknown to Airflow"
        return f"{self.op.describe()} (its run: {run}): finished {self.direction.upper()} because {self.reason}"


def finish_unfinished(ch: ClickHouseHook, run_id: str, run_state: Callable[[Unfinished], str | None]) -> list[Recovered]:
    """Finish forward, or reverse, every operation some run left half done; ``run_id`` is the caller's run.

    ``run_state(op)``: Airflow's state of the run that started ``op`` (None: no such run). While
    that run is queued or running it may still resume its own swap, so this raises
    ``OperationAliveError`` naming it and changes nothing.
    """
    recovered: list[Recovered] = []
    for op in unfinished_operations(ch):
        state = "this run" if op.op_id == run_id else run_state(op)
        if state in ALIVE_RUN_STATES:
            raise OperationAliveError(
                f"{op.describe()} is unfinished and Airflow says its run is {state}: its swap_tables retry finishes "
                "it. Wait for that run, or mark it failed and trigger again. Nothing was changed."
            )
        swap = JournaledSwap(ch, op.op_id, op.operation)
        done = Recovered(op, swap.recover(), swap.reason, state)
        log.warning("took over %s", done.describe())
        recovered.append(done)
    return recovered


__all__ = [
    "JournaledSwap",
    "NeedsPersonError",
    "OperationAliveError",
    "Recovered",
    "SwapFailedError",
    "SwapRefusedError",
    "finish_unfinished",
    "plan_for",
    "table_catalog",
    "table_rows",
]
