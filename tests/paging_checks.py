"""Shared by the DAG tests that hold the fills tables equal to what the emulator served, with merges stopped.

``merges_stopped`` creates the bundle's tables with merges disabled for good, so raw counts show every
row a loader ever wrote (a duplicate cannot be merged away before the count). Import the fixture into
a test module to use it (``from paging_checks import merges_stopped``).
"""

from __future__ import annotations

import pytest
from airflow.sdk import DagRunState
from conftest import ch_rows
from fills_truth import expected_fills, physical_and_final_counts, stored_fills

from clob_pipeline.dag_parts import SCHEMA_FILES
from clob_pipeline.hooks.clickhouse import ClickHouseHook

TABLES = {"fills_table": "clob_fills_v2", "proxy_table": "pm_user_proxy_wallets_v2"}


def stop_merges(*tables: str) -> None:
    """Create the bundle's tables and disable merges on ``tables`` for good (every merge would exceed
    1 byte), so raw counts show every row written; SYSTEM STOP MERGES would not outlive a task's
    embedded engine."""
    with ClickHouseHook() as ch:
        for name in SCHEMA_FILES:
            ch.run_sql_file(name, TABLES)
        for table in tables:
            ch.run_statements(
                f"SYSTEM STOP MERGES {{db:Identifier}}.{table};\n"
                f"ALTER TABLE {{db:Identifier}}.{table} MODIFY SETTING max_bytes_to_merge_at_max_space_in_pool = 1, "
                "max_bytes_to_merge_at_min_space_in_pool = 1"
            )


@pytest.fixture()
def merges_stopped(database):
    """The staging fills table exists with merges disabled for good (:func:`stop_merges`)."""
    stop_merges("clob_fills_v2")
    return database


def inserted_nothing_again(run_dag, conf: dict, dag_id: str = "clob_backfill") -> None:
    before = physical_and_final_counts()
    assert run_dag(dag_id, conf).state == DagRunState.SUCCESS
    assert physical_and_final_counts() == before


def exact(emu, wallets: list[str], **truth_filters) -> None:
    """The table holds exactly the served fills of ``wallets``, raw and FINAL."""
    truth = expected_fills(emu, wallets, **truth_filters)
    assert stored_fills() == truth
    assert physical_and_final_counts() == (sum(truth.values()), sum(truth.values()))


def parts_of_staging() -> int:
    return ch_rows("SELECT count() FROM system.parts WHERE database = {db:String} AND table = 'clob_fills_v2' AND active")[0][0]


def load_tries(dag_run, task_id: str = "load_wallet_fills") -> list[int]:
    return [ti.try_number for ti in dag_run.get_task_instances() if ti.task_id == task_id]


def backfill_under_paging_fault(run_dag, emulator_factory, paging: dict, source: str, page_size: int):
    """Two wallets with a 30-fill burst (identical fills in one second) behind ``paging``: a backfill of all
    history through ``source`` succeeds, leaves exactly the served fills, raw and FINAL, with merges
    really stopped; returns the emulator and the run's conf (for a second run)."""
    emu = emulator_factory(
        wallets=2, proxy_users=1, fills_per_wallet=400, rate_scale=0, paging=paging, burst_fills=30, burst_distinct=3,
        extra={"page_size": page_size},
    )  # fmt: skip
    wallets = emu.dataset.wallets
    conf = {"lookback": "all", "wallets": wallets, "source": source}
    assert run_dag("clob_backfill", conf).state == DagRunState.SUCCESS
    exact(emu, wallets)
    assert max(expected_fills(emu, wallets).values()) >= 10  # the burst: identical fills in one second
    assert parts_of_staging() > 1  # merges really were stopped
    return emu, conf
