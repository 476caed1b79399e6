"""A data-quality check on ClickHouse: one SQL file, one verdict, the numbers and offending rows.

Modelled on common-sql's ``SQLCheckOperator`` (a query whose row decides pass/fail), but the row
is named: the first statement returns one row with a ``passed`` column plus the measured values;
an optional second statement returns up to 10 offending rows for the log. On failure the task
logs its verdict (numbers, rule, next step) as a plain ERROR line first, then the offending rows, short,
and fails without retry (the data will not fix itself) with the verdict as the exception message. An optional
``warning`` column makes a passing check log a WARNING line (with the rows) instead of failing.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowFailException

from clob_pipeline.config import CLICKHOUSE_CONN_ID
from clob_pipeline.hooks.clickhouse import ClickHouseHook
from clob_pipeline.sql_files import split_statements

MAX_SAMPLE_ROWS = 10
MAX_VALUE_CHARS = 66  # a 0x address (42) or a 64-hex hash plus 0x fits; longer values are cut


class ClickHouseCheckOperator(BaseOperator):
    """Fail when the check's ``passed`` column is false, logging the measured values and samples.

    :param sql: ``.sql`` file under ``include/sql`` (templated): statement 1 = verdict row,
        statement 2 (optional) = offending rows.
    :param parameters: query parameters (templated; table names, thresholds).
    :param subject: what is checked, for the message (e.g. ``polymarket.clob_fills_v2``).
    :param next_step: what on-call should do when the check fails.
    """

    template_fields: Sequence[str] = ("sql", "parameters", "subject")
    template_ext: Sequence[str] = (".sql",)
    template_fields_renderers = {"sql": "sql", "parameters": "json"}
    ui_color = "#e8f5e9"

    def __init__(
        self,
        *,
        sql: str,
        parameters: dict[str, Any] | None = None,
        subject: str = "",
        next_step: str = "",
        clickhouse_conn_id: str = CLICKHOUSE_CONN_ID,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.sql = sql
        self.parameters = parameters
        self.subject = subject
        self.next_step = next_step
        self.clickhouse_conn_id = clickhouse_conn_id

    def execute(self, context: Any) -> dict[str, Any]:
        started = time.monotonic()
        statements = split_statements(self.sql)
        with ClickHouseHook(self.clickhouse_conn_id) as ch:
            result = ch.query_result(statements[0], self.parameters)
            if len(result.result_rows) != 1 or "passed" not in result.column_names:
                raise AirflowFailException(
                    f"{self.task_id}: the check query must return exactly one row with a `passed` column; "
                    f"got {len(result.result_rows)} row(s) with columns {list(result.column_names)}"
                )
            measured = dict(zip(result.column_names, result.result_rows[0]))
            passed = bool(measured.pop("passed"))
            warning = bool(measured.pop("warning", False))
            samples: list[dict[str, Any]] = []
            if (warning or not passed) and len(statements) > 1:
                sample = ch.query_result(statements[1], self.parameters)
                samples = [dict(zip(sample.column_names, row)) for row in sample.result_rows[:MAX_SAMPLE_ROWS]]
            subject = f"{ch.bundle_database}.{self.subject}" if self.subject else ch.bundle_database
        numbers = " ".join(f"{k}={_fmt(v)}" for k, v in measured.items())
        if not passed:
            verdict = (
                f"check {self.task_id} FAILED on {subject}: {numbers}. {self.next_step} "
                f"({len(samples)} offending row(s) below, up to {MAX_SAMPLE_ROWS})"
            )
            # The verdict first, as a plain line: the UI's log panel shows it above the rows and the traceback.
            self.log.error("%s", verdict)
            for row in samples:
                self.log.error("offending row: %s", short_row(row))
            raise AirflowFailException(verdict)
        if warning:
            self.log.warning("WARNING check %s on %s: %s. %s", self.task_id, subject, numbers, self.next_step)
            for row in samples:
                self.log.warning("context row: %s", short_row(row))
        else:
            self.log.info("check %s passed on %s: %s in %.2fs", self.task_id, subject, numbers, time.monotonic() - started)
        return {**{k: _fmt(v) for k, v in measured.items()}, "warning": warning}


def short_row(row: dict[str, Any]) -> str:
    """One offending row as ``key=value`` pairs, each value cut to ``MAX_VALUE_CHARS`` (pure): short
    enough to read in the UI's log panel without scrolling."""
    parts = []
    for key, value in row.items():
        text = str(_fmt(value))
        parts.append(f"{key}={text if len(text) <= MAX_VALUE_CHARS else text[: MAX_VALUE_CHARS - 1] + '…'}")
    return " ".join(parts)


def _fmt(value: Any) -> Any:
    """XCom- and log-friendly form of a ClickHouse value."""
    if isinstance(value, (int, float, str, bool)) or value is None:
        return value
    return str(value)
