"""Operator that runs ``include/sql`` files against ClickHouse (server or chDB)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from airflow.sdk import BaseOperator

from clob_pipeline.config import CLICKHOUSE_CONN_ID
from clob_pipeline.hooks.clickhouse import ClickHouseHook


class ClickHouseSqlOperator(BaseOperator):
    """Run one or more SQL files (or SQL texts) statement by statement, with query parameters.

    :param sql: a ``.sql`` path relative to the DAG's ``template_searchpath`` (``include/sql``), SQL
        text, or a list of either (templated). Values go in ``parameters``, never into the text.
    :param parameters: ClickHouse query parameters (``{name:Type}`` in the SQL); ``db`` is added by
        the hook (templated).
    """

    template_fields: Sequence[str] = ("sql", "parameters")
    template_ext: Sequence[str] = (".sql",)
    template_fields_renderers = {"sql": "sql", "parameters": "json"}
    ui_color = "#fff3c4"

    def __init__(
        self,
        *,
        sql: str | list[str],
        parameters: dict[str, Any] | None = None,
        clickhouse_conn_id: str = CLICKHOUSE_CONN_ID,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.sql = sql
        self.parameters = parameters
        self.clickhouse_conn_id = clickhouse_conn_id

    def execute(self, context: Any) -> int:
        started = time.monotonic()
        texts = [self.sql] if isinstance(self.sql, str) else list(self.sql)
        with ClickHouseHook(self.clickhouse_conn_id) as ch:
            statements = sum(ch.run_statements(text, self.parameters) for text in texts)
            target = f"{ch.backend} database {ch.bundle_database}"
        self.log.info(
            "ran %d statements from %d SQL texts on %s in %.2fs", statements, len(texts), target, time.monotonic() - started
        )
        return statements
