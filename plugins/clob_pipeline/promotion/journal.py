"""Reading ``promotion_journal``: which operations some run left half done.

An operation is unfinished when its latest attempt started or finished a step but not every step
(the last one, ``finish``, records the live tables). Until it is finished or reversed, readers may
see one role promoted and the other not, so ingestion stays paused and no run plans new work.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from clob_pipeline.hooks.clickhouse import ClickHouseHook

DAG_OF_OPERATION = {"promote": "clob_promotion", "rollback": "clob_rollback"}


@dataclass(frozen=True)
class Unfinished:
    op_id: str
    operation: str
    attempt: int
    done_steps: int
    steps: int

    @property
    def dag_id(self) -> str:
        return DAG_OF_OPERATION[self.operation]

    def describe(self) -> str:
        return f"{self.operation} {self.op_id} ({self.dag_id}, attempt {self.attempt}: {self.done_steps}/{self.steps} steps done)"


def unfinished_operations(ch: ClickHouseHook) -> list[Unfinished]:
    """Every half-done operation, oldest first (normally none, at most one)."""
    return [
        Unfinished(r["op_id"], r["operation"], int(r["attempt"]), int(r["done_steps"]), int(r["steps"]))
        for r in ch.query_file_dicts("promotion/journal_unfinished.sql")
    ]
