"""Several wallets' requests in flight at once (fills/fetch_driver.py) store exactly what serial
fetching stores, also when one wallet's load dies midway and the task's retry resumes it."""

from __future__ import annotations

from airflow.sdk import DagRunState
from conftest import ch_rows, point_connections, use_new_database
from fills_truth import expected_fills, physical_and_final_counts, stored_fills


def table_ids() -> list[tuple]:
    return sorted(ch_rows("SELECT proxy_wallet, fill_id, copies FROM {db:Identifier}.clob_fills_v2"))


def test_concurrent_fetching_stores_what_serial_fetching_stores_even_after_a_kill(
    database, emulator_factory, run_dag, monkeypatch
):
    common = {"page_size": 100, "max_attempts": 1}
    emu = emulator_factory(
        wallets=6, proxy_users=3, fills_per_wallet=700, rate_scale=0, latency_ms=5, burst_fills=60, burst_distinct=3,
        extra={**common, "max_in_flight": 1},
    )  # fmt: skip
    wallets = emu.dataset.wallets
    conf = {"lookback": "all", "wallets": wallets, "wallets_per_task": 6}
    assert run_dag("clob_backfill", conf).state == DagRunState.SUCCESS
    serial = table_ids()
    assert stored_fills() == expected_fills(emu, wallets)

    use_new_database(monkeypatch)
    point_connections(monkeypatch, emu.url, **common, max_in_flight=4)
    victim = wallets[2]
    emu.post("/__emulator/faults", {"path": "/v2/trades", "user": victim, "status": 500, "after": 3, "count": 1})
    monkeypatch.setenv("CLOB_PIPELINE_BATCH_ROWS", "200")  # checkpoints every few pages
    dr = run_dag("clob_backfill", conf)
    assert dr.state == DagRunState.SUCCESS
    assert emu.stats().get("fault:status") == 1  # the first try really lost that wallet midway
    ti = next(t for t in dr.get_task_instances() if t.task_id == "load_wallet_fills")
    assert ti.try_number == 2  # the retry resumed it
    assert table_ids() == serial  # the same fill ids and copies as serial fetching
    raw, final = physical_and_final_counts()
    assert raw == final == len(serial)
