"""Errors a retry cannot fix end the task in one try; a run whose task failed ends ``failed`` even
when its leaf runs on ALL_DONE (dag.test on chDB against the emulator)."""

from __future__ import annotations

import pytest
from airflow.sdk import DagRunState
from conftest import use_wrong_clob_secret
from seeding import seed_mapping, task_states


def tries(dag_run, task_id: str) -> list[int]:
    return [ti.try_number for ti in dag_run.get_task_instances() if ti.task_id == task_id]


def test_a_clob_401_fails_in_one_try_with_one_request_and_the_run_is_red(database, emulator, run_dag, monkeypatch):
    use_wrong_clob_secret(monkeypatch, emulator)
    funder = emulator.server.state.clob.funder

    dr = run_dag("clob_backfill", {"lookback": "all", "wallets": [funder], "source": "clob"})

    assert dr.state == DagRunState.FAILED
    states = task_states(dr)
    assert states.all("load_wallet_fills") == ["failed"] and states["summarize"] == "failed"
    assert tries(dr, "load_wallet_fills") == [1]  # retries=1 in tests: no second try
    assert emulator.stats()["/data/trades"] == 1  # one request, no in-hook or Airflow retry


def test_a_transient_error_keeps_its_airflow_retry(database, emulator_factory, run_dag):
    emu = emulator_factory(wallets=1, fills_per_wallet=20, rate_scale=0, extra={"max_attempts": 1})
    wallet = emu.dataset.wallets[0]  # the wallet's request, not the page-size probe (which has no user)
    emu.post("/__emulator/faults", {"path": "/v2/trades", "user": wallet, "status": 503, "count": 1})

    dr = run_dag("clob_backfill", {"lookback": "all", "wallets": emu.dataset.wallets})

    assert dr.state == DagRunState.SUCCESS
    assert tries(dr, "load_wallet_fills") == [2]  # the 503 was retried by Airflow and the retry loaded


def test_discovery_with_a_missing_metrics_table_ends_failed_and_alerts_once(database, emulator, run_dag, webhook):
    dr = run_dag("pm_proxy_discovery", {"metrics_table": "no_such_metrics"})

    assert dr.state == DagRunState.FAILED
    states = task_states(dr)
    assert states["select_wallets"] == "failed" and tries(dr, "select_wallets") == [1]
    assert states["store_mappings"] == "failed"  # the ALL_DONE leaf ran, then failed the run
    # Every DAG alerts through HttpNotifier; the leaf that failed only because of select_wallets does not.
    assert [a["task_id"] for a in webhook] == ["select_wallets"]
    assert "no_such_metrics does not exist" in webhook[0]["error"]


@pytest.mark.parametrize("per_task", [1, 25])
def test_incremental_with_a_wrong_clob_secret_fails_each_wallet_once_and_ends_failed(
    database, emulator, run_dag, monkeypatch, per_task
):
    seed_mapping(emulator)
    use_wrong_clob_secret(monkeypatch, emulator)

    dr = run_dag("clob_incremental", {"source": "clob", "wallets_per_task": per_task})

    assert dr.state == DagRunState.FAILED
    tasks = -(-len(emulator.dataset.wallets) // per_task)
    assert tries(dr, "load_new_fills") == [1] * tasks  # one wallet or a batch: no Airflow retry
    states = task_states(dr)
    assert states.all("load_new_fills") == ["failed"] * tasks and states["summarize"] == "failed"
    assert emulator.stats()["/data/trades"] == len(emulator.dataset.wallets)
