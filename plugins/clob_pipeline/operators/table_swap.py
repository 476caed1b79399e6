"""Operator for the promotion / rollback swap: refuse if the validated tables changed, then run the
journaled swap and record the new live tables."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowFailException

from clob_pipeline.config import CLICKHOUSE_CONN_ID, STAGING_FILLS_TABLE, STAGING_PROXY_TABLE
from clob_pipeline.hooks.clickhouse import ClickHouseHook
from clob_pipeline.promotion.live import ingestion_pause, set_live_tables
from clob_pipeline.promotion.plan import TABLE_SETS
from clob_pipeline.promotion.swap import JournaledSwap, SwapFailedError, SwapRefusedError, table_rows

STAGING_SCHEMA_FILES = ("schema/fills_table.sql", "schema/proxy_table.sql")


class ClickHouseTableSwapOperator(BaseOperator):
    """Swap the bundle's table sets (``promote``: staging -> production; ``rollback``: *_old -> production).

    :param operation: ``promote`` or ``rollback``.
    :param plan: the plan task's output (templated / XComArg): ``incoming`` = per role the table
        that becomes production and its validated row count. The swap refuses if a count changed
        since (an ingestion run wrote after validation), leaving every table as it was.

    Runs only while this DAG run holds the ingestion pause. A retry of this task resumes the
    journal of the same run (see ``JournaledSwap``).
    """

    template_fields: Sequence[str] = ("plan",)
    ui_color = "#ffe0e0"

    def __init__(self, *, operation: str, plan: Any, clickhouse_conn_id: str = CLICKHOUSE_CONN_ID, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.operation = operation
        self.plan = plan
        self.clickhouse_conn_id = clickhouse_conn_id

    def execute(self, context: Any) -> dict[str, Any]:
        started = time.monotonic()
        run_id = context["run_id"]
        incoming: dict[str, dict[str, Any]] = self.plan["incoming"]
        with ClickHouseHook(self.clickhouse_conn_id) as ch:
            pause = ingestion_pause(ch)
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
                steps = swap.run(before_new_attempt=unchanged_since_validation)
            except SwapRefusedError as exc:
                raise AirflowFailException(str(exc)) from exc
            except SwapFailedError as exc:
                self.log.error("%s", exc)
                raise
            live = {s.role: s.production for s in TABLE_SETS}
            set_live_tables(ch, live, run_id)
            # A promotion moved staging away: re-create it empty, ready for the next backfill.
            for name in STAGING_SCHEMA_FILES:
                ch.run_sql_file(name, {"fills_table": STAGING_FILLS_TABLE, "proxy_table": STAGING_PROXY_TABLE})
        self.log.info(
            "%s %s: %d steps (attempt %d%s): %s; live tables now %s in %.2fs",
            self.operation,
            run_id,
            len(steps),
            swap.attempt,
            ", resumed from the journal" if swap.resumed else "",
            "; ".join(s.describe() for s in steps),
            live,
            time.monotonic() - started,
        )
        return {"steps": [s.describe() for s in steps], "attempt": swap.attempt, "live": live}
