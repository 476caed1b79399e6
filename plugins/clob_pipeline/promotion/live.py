"""The live table set and the ingestion pause, both stored in ClickHouse.

Ingestion reads them when a task starts (never from code), so after a promotion or rollback it
writes where readers read, and while a promotion validates and swaps it stays out of the way.
A pause is taken over only when Airflow says the run holding it is no longer alive.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from clob_pipeline.config import INGESTION_LOCK, INGESTION_LOCK_TTL_S
from clob_pipeline.promotion.journal import unfinished_operations
from clob_pipeline.promotion.plan import TABLE_SETS

if TYPE_CHECKING:
    from clob_pipeline.hooks.clickhouse import ClickHouseHook


def live_tables(ch: ClickHouseHook) -> dict[str, str]:
    """role -> live table name; a role never promoted is live on its staging table."""
    live = {s.role: s.staging for s in TABLE_SETS}
    live.update(dict(ch.query_file("promotion/live_tables_read.sql")))
    return live


ALIVE_RUN_STATES = ("queued", "running")


@dataclass(frozen=True)
class Pause:
    holder: str
    reason: str
    age_s: int

    def describe(self) -> str:
        return f"ingestion paused by {self.holder} ({self.reason}) for {self.age_s}s"


class PauseHeldError(Exception):
    """Another promotion or rollback holds the ingestion pause."""


def held_pause(ch: ClickHouseHook) -> Pause | None:
    """The pause as stored, whatever its age (None when released or never taken)."""
    rows = ch.query_file("promotion/lock_read.sql", {"name": INGESTION_LOCK})
    if not rows or not rows[0][1]:
        return None
    holder, _, reason, age_s = rows[0]
    return Pause(holder, reason, int(age_s))


def ingestion_pause(ch: ClickHouseHook) -> Pause | None:
    """The pause ingestion must respect: while a journaled operation is unfinished, always (the
    catalog may be half swapped); otherwise a held pause younger than ``INGESTION_LOCK_TTL_S``."""
    if unfinished := unfinished_operations(ch):
        op = unfinished[0]
        return Pause(op.op_id, f"{op.describe()} is unfinished; trigger {op.dag_id} to finish or reverse it", 0)
    pause = held_pause(ch)
    return pause if pause is not None and pause.age_s <= INGESTION_LOCK_TTL_S else None


def hold_pause(
    ch: ClickHouseHook, holder: str, reason: str, run_state: Callable[[str], str | None] | None = None
) -> Pause | None:
    """Take the pause for ``holder``; returns the abandoned pause it took over, if any.

    ``run_state(run_id)``: Airflow's state of the run holding the pause (None: no such run). The
    pause is taken over, at any age, only when that run is neither queued nor running; without
    ``run_state`` every other holder counts as alive.
    """
    current = held_pause(ch)
    taken_over = None
    if current is not None and current.holder != holder:
        state = run_state(current.holder) if run_state else "running"
        if state in ALIVE_RUN_STATES:
            raise PauseHeldError(
                f"{current.describe()} and Airflow says that run is {state}; wait for it to finish (its "
                "resume_ingestion teardown releases the pause), or mark it failed, then trigger again"
            )
        taken_over = Pause(current.holder, f"{current.reason}; that run is {state or 'unknown to Airflow'}", current.age_s)
    ch.run_sql_file("promotion/lock_write.sql", {"name": INGESTION_LOCK, "holder": holder, "held": 1, "reason": reason})
    return taken_over


def release_pause(ch: ClickHouseHook, holder: str) -> bool:
    """Release the pause if ``holder`` holds it; returns whether it did."""
    current = held_pause(ch)
    if current is None or current.holder != holder:
        return False
    ch.run_sql_file("promotion/lock_write.sql", {"name": INGESTION_LOCK, "holder": holder, "held": 0, "reason": "released"})
    return True
