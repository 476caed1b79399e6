"""Every DAG parses with no import errors and follows the bundle's policies."""

from __future__ import annotations

import pytest

from clob_pipeline.alerts import FailureAlert
from clob_pipeline.config import CLICKHOUSE_POOL
from clob_pipeline.retry_policy import FailFastRetryPolicy


def test_no_import_errors(dagbag):
    assert dagbag.import_errors == {}
    assert "clob_backfill" in dagbag.dags


def test_dag_policies(dagbag):
    for dag_id, dag in dagbag.dags.items():
        assert dag.tags, dag_id
        assert dag.doc_md, dag_id
        for task in dag.tasks:
            assert task.retries >= 1, f"{dag_id}.{task.task_id} has no retries"
            # errors a retry cannot fix end the task at once; every failure is alerted when the webhook exists
            assert isinstance(task.retry_policy, FailFastRetryPolicy), f"{dag_id}.{task.task_id}"
            callbacks = task.on_failure_callback if isinstance(task.on_failure_callback, list) else [task.on_failure_callback]
            assert any(isinstance(c, FailureAlert) for c in callbacks), f"{dag_id}.{task.task_id} sends no alert"


# Tasks that never open ClickHouse (Param checks, gates, HTTP-only lookups); every other task must be in the pool.
NO_CLICKHOUSE = {
    ("clob_backfill", "plan_backfill"),
    ("clob_promotion", "unless_dry_run"),
    ("clob_promotion", "approve_swap"),
    ("clob_rollback", "unless_dry_run"),
    ("pm_proxy_discovery", "resolve_wallets"),
}


def test_tasks_that_touch_clickhouse_share_the_pool(dagbag):
    outside = [
        (dag_id, task.task_id)
        for dag_id, dag in dagbag.dags.items()
        for task in dag.tasks
        if task.pool != CLICKHOUSE_POOL and (dag_id, task.task_id) not in NO_CLICKHOUSE
    ]
    assert outside == []


def test_manual_dags_are_manual_and_one_at_a_time(dagbag):
    from airflow.sdk.definitions.timetables.simple import NullTimetable

    for dag_id in ("clob_backfill", "clob_promotion", "clob_rollback", "pm_proxy_discovery"):  # manual only
        dag = dagbag.dags[dag_id]
        assert isinstance(dag.timetable, NullTimetable), dag_id
        assert dag.max_active_runs == 1, dag_id


@pytest.mark.parametrize(("conf", "fragment"), [({"lookback": "7d"}, "7d"), ({"wallets": ["0x123"]}, "0x123")])
def test_backfill_params_reject_bad_input(dagbag, conf, fragment):
    from airflow.sdk.definitions.param import ParamsDict

    with pytest.raises(Exception, match=fragment):
        params = ParamsDict(dagbag.dags["clob_backfill"].params)
        for key, value in conf.items():
            params[key] = value
        params.validate()


@pytest.mark.parametrize("dag_id", ["clob_backfill", "pm_proxy_discovery"])
def test_the_wallets_param_is_optional_in_the_trigger_form(dagbag, dag_id):
    """Airflow 3.3's trigger form marks a field required unless its schema type lists "null"."""
    from airflow.sdk.definitions.param import ParamsDict

    param = dagbag.dags[dag_id].params.get_param("wallets")
    assert isinstance(param.schema["type"], list) and "null" in param.schema["type"]
    for value in (None, [], ["0x" + "ab" * 20]):
        params = ParamsDict(dagbag.dags[dag_id].params)
        params["wallets"] = value
        params.validate()
