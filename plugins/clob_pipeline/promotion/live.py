"""The live table set and the ingestion pause, both stored in ClickHouse.

Ingestion reads them when a task starts (never from code), so after a promotion or rollback it
writes where readers read, and while a promotion validates and swaps it stays out of the way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from clob_pipeline.config import INGESTION_LOCK, INGESTION_LOCK_TTL_S
from clob_pipeline.promotion.plan import TABLE_SETS

if TYPE_CHECKING:
    from clob_pipeline.hooks.clickhouse import ClickHouseHook


def live_tables(ch: ClickHouseHook) -> dict[str, str]:
    """role -> live table name; a role never promoted is live on its staging table."""
    live = {s.role: s.staging for s in TABLE_SETS}
    live.update(dict(ch.query_file("promotion/live_tables_read.sql")))
    return live


def set_live_tables(ch: ClickHouseHook, tables: dict[str, str], set_by: str) -> None:
    for role, name in tables.items():
        ch.run_sql_file("promotion/live_tables_write.sql", {"role": role, "table_name": name, "set_by": set_by})


@dataclass(frozen=True)
class Pause:
    holder: str
    reason: str
    age_s: int

    def describe(self) -> str:
        return f"ingestion paused by {self.holder} ({self.reason}) for {self.age_s}s"


class PauseHeldError(Exception):
    """Another promotion or rollback holds the ingestion pause."""


def ingestion_pause(ch: ClickHouseHook) -> Pause | None:
    """The pause in force, if any. One older than ``INGESTION_LOCK_TTL_S`` counts as abandoned."""
    rows = ch.query_file("promotion/lock_read.sql", {"name": INGESTION_LOCK})
    if not rows:
        return None
    holder, held, reason, age_s = rows[0]
    if not held or age_s > INGESTION_LOCK_TTL_S:
        return None
    return Pause(holder, reason, int(age_s))


def hold_pause(ch: ClickHouseHook, holder: str, reason: str) -> Pause | None:
    """Take the pause for ``holder``; returns an abandoned/previous pause it replaced, if any."""
    current = ingestion_pause(ch)
    if current and current.holder != holder:
        raise PauseHeldError(
            f"{current.describe()}; wait for that run to finish (it releases the pause in its last task), "
            f"or if it was killed, the pause expires after {INGESTION_LOCK_TTL_S}s"
        )
    ch.run_sql_file("promotion/lock_write.sql", {"name": INGESTION_LOCK, "holder": holder, "held": 1, "reason": reason})
    return current


def release_pause(ch: ClickHouseHook, holder: str) -> bool:
    """Release the pause if ``holder`` holds it; returns whether it did."""
    current = ingestion_pause(ch)
    if current is None or current.holder != holder:
        return False
    ch.run_sql_file("promotion/lock_write.sql", {"name": INGESTION_LOCK, "holder": holder, "held": 0, "reason": "released"})
    return True
