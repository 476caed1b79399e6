"""clob_incremental's colour when the ingestion pause comes or goes while the run is under way: a
pause that only skipped load tasks is grey (no alert), a failed wallet is red whatever the pause
does. The pause is the real one (``pipeline_lock``), taken and released around the load tasks."""

from __future__ import annotations

import pytest
from airflow.sdk import DagRunState
from conftest import use_wrong_clob_secret
from seeding import seed_mapping, task_states

from clob_pipeline.hooks.clickhouse import ClickHouseHook
from clob_pipeline.operators.fills_transfer import PolymarketFillsToClickHouseOperator
from clob_pipeline.promotion.live import hold_pause, release_pause

HOLDER = "manual__promotion-under-test"


def around_loads(monkeypatch, *, before: bool, after: str) -> None:
    """Run every load task with the pause taken before it (``before``), then ``after`` it: "hold"
    (a promotion starts before summarize) or "release" (the promotion ends before summarize)."""
    execute = PolymarketFillsToClickHouseOperator.execute

    def wrapped(self, context):
        if before:
            with ClickHouseHook() as ch:
                hold_pause(ch, HOLDER, "test")
        try:
            return execute(self, context)
        finally:
            with ClickHouseHook() as ch:
                hold_pause(ch, HOLDER, "test") if after == "hold" else release_pause(ch, HOLDER)

    monkeypatch.setattr(PolymarketFillsToClickHouseOperator, "execute", wrapped)


@pytest.mark.parametrize("per_task", [1, 25])
def test_a_pause_that_only_skipped_the_loads_leaves_the_run_grey_without_an_alert(
    database, emulator, run_dag, monkeypatch, webhook, capfd, per_task
):
    seed_mapping(emulator)
    around_loads(monkeypatch, before=True, after="release")
    capfd.readouterr()
    dr = run_dag("clob_incremental", {"wallets_per_task": per_task})
    states = task_states(dr)
    assert states.all("load_new_fills") == ["skipped"] * -(-len(emulator.dataset.wallets) // per_task)  # every one
    assert states["summarize"] == "skipped" and dr.state == DagRunState.SUCCESS, states
    assert "skipped_by_pause=6" in capfd.readouterr().out
    assert webhook == []  # a pause is not a failure: no alert


def test_a_failed_load_keeps_the_run_red_when_a_pause_starts_before_the_summary(
    database, emulator, run_dag, monkeypatch, webhook
):
    seed_mapping(emulator)
    use_wrong_clob_secret(monkeypatch, emulator)
    around_loads(monkeypatch, before=False, after="hold")
    dr = run_dag("clob_incremental", {"source": "clob", "wallets_per_task": 25})
    states = task_states(dr)
    assert states.all("load_new_fills") == ["failed"] and states["summarize"] == "failed", states
    assert dr.state == DagRunState.FAILED
    assert [a["task_id"] for a in webhook] == ["load_new_fills"]  # one alert, from the task that failed
