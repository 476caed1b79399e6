"""Every DAG parses with no import errors and follows the bundle's policies."""

from __future__ import annotations

import time

import pytest

from clob_pipeline.config import CLICKHOUSE_POOL


def test_no_import_errors(dagbag):
    assert dagbag.import_errors == {}
    assert "clob_backfill" in dagbag.dags


def test_dag_policies(dagbag):
    for dag_id, dag in dagbag.dags.items():
        assert dag.tags, dag_id
        assert dag.doc_md, dag_id
        for task in dag.tasks:
            assert task.retries >= 1, f"{dag_id}.{task.task_id} has no retries"


def test_tasks_that_touch_clickhouse_share_the_pool(dagbag):
    dag = dagbag.dags["clob_backfill"]
    for task_id in ("ensure_schema", "list_wallets", "load_wallet_fills", "summarize"):
        assert dag.get_task(task_id).pool == CLICKHOUSE_POOL


def test_parsing_is_cheap(dagbag):
    from airflow.dag_processing.dagbag import DagBag

    started = time.monotonic()
    DagBag(dag_folder=dagbag.dag_folder)
    assert time.monotonic() - started < 10  # a sanity bound, not a benchmark: no I/O at parse time


@pytest.mark.parametrize(("conf", "fragment"), [({"lookback": "7d"}, "7d"), ({"wallets": ["0x123"]}, "0x123")])
def test_backfill_params_reject_bad_input(dagbag, conf, fragment):
    from airflow.sdk.definitions.param import ParamsDict

    with pytest.raises(Exception, match=fragment):
        params = ParamsDict(dagbag.dags["clob_backfill"].params)
        for key, value in conf.items():
            params[key] = value
        params.validate()
