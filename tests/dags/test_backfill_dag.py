"""clob_backfill run for real (dag.test) against the emulator and chDB."""

from __future__ import annotations

import math
import time

import pytest
from airflow.sdk import DagRunState
from conftest import ch_rows
from fills_truth import expected_fills, ledger_and_table_counts, physical_and_final_counts, stored_fills
from seeding import checksum, seed_mapping

from clob_pipeline.fills.params import WALLET_PATTERN, ParamError


def test_backfill_stores_exactly_the_emulators_fills_and_a_rerun_changes_nothing(database, emulator, run_dag, capfd):
    wallets = emulator.dataset.wallets
    capfd.readouterr()
    dr = run_dag("clob_backfill", {"lookback": "all", "wallets": wallets})
    assert dr.state == DagRunState.SUCCESS
    expected = expected_fills(emulator, wallets)
    assert sum(expected.values()) > 800 and max(expected.values()) >= 2  # includes identical fills in one tx
    assert stored_fills() == expected
    ledger, table_counts = ledger_and_table_counts()
    assert ledger == table_counts and len(ledger) == len(wallets)  # the loaders' counts are the table's
    out = capfd.readouterr().out
    summary = [line for line in out.splitlines() if "backfill summary:" in line]
    n = sum(expected.values())
    counts = f"wallets={len(wallets)} finished={len(wallets)} fills_in_clob_fills_v2={n} inserted_this_run={n}"
    assert summary and counts in summary[-1]
    busiest = max(table_counts, key=table_counts.get)
    assert any(line.startswith(f"{busiest}: fills={table_counts[busiest]} range=20") for line in out.splitlines())
    ids_before = ch_rows("SELECT groupArraySorted(100000)(fill_id) FROM {db:Identifier}.clob_fills_v2")[0][0]
    raw, final = physical_and_final_counts()
    assert raw == final == sum(expected.values())

    dr2 = run_dag("clob_backfill", {"lookback": "all", "wallets": wallets})
    assert dr2.state == DagRunState.SUCCESS
    assert stored_fills() == expected
    assert physical_and_final_counts() == (raw, final)  # the second run inserted nothing
    assert ch_rows("SELECT groupArraySorted(100000)(fill_id) FROM {db:Identifier}.clob_fills_v2")[0][0] == ids_before
    state = dict(ch_rows("SELECT wallet, fills_total FROM {db:Identifier}.wallet_sync_state FINAL"))
    assert state == {w: sum(1 for f in emulator.dataset.visible_fills(w)) for w in wallets}


def test_lookback_limits_the_window(database, emulator_factory, run_dag):
    now = int(time.time())
    emu = emulator_factory(wallets=2, fills_per_wallet=200, anchor_s=now - 3600, rate_scale=0)
    before = int(time.time())
    dr = run_dag("clob_backfill", {"lookback": "30d", "wallets": emu.dataset.wallets})
    after = int(time.time())
    assert dr.state == DagRunState.SUCCESS
    stored = stored_fills()
    at_least = expected_fills(emu, emu.dataset.wallets, start_s=after - 30 * 86400)
    at_most = expected_fills(emu, emu.dataset.wallets, start_s=before - 30 * 86400)
    assert at_least <= stored <= at_most
    assert 0 < sum(stored.values()) < sum(expected_fills(emu, emu.dataset.wallets).values())


def test_a_run_killed_midway_resumes_from_its_checkpoint(database, emulator_factory, run_dag, monkeypatch):
    emu = emulator_factory(wallets=2, fills_per_wallet=1200, rate_scale=0, extra={"page_size": 100, "max_attempts": 1})
    victim = emu.dataset.wallets[0]
    monkeypatch.setenv("CLOB_PIPELINE_BATCH_ROWS", "200")  # a checkpoint every 2 pages
    emu.post("/__emulator/faults", {"path": "/v2/trades", "user": victim, "status": 500, "after": 5, "count": 1})

    dr = run_dag("clob_backfill", {"lookback": "all", "wallets": emu.dataset.wallets})
    assert dr.state == DagRunState.SUCCESS
    assert emu.stats().get("fault:status") == 1  # the first try really died after 5 pages
    assert stored_fills() == expected_fills(emu, emu.dataset.wallets)
    raw, final = physical_and_final_counts()
    assert raw == final
    ledger, table_counts = ledger_and_table_counts()
    assert ledger == table_counts  # the retry counted what the killed try had stored, once
    pages_full_read = math.ceil(len(emu.dataset.visible_fills(victim)) / 100) + 1
    requests = emu.stats()[f"/v2/trades?user={victim}"]
    assert requests < 6 + pages_full_read, "the retry started over instead of resuming"


def test_clob_source_signs_requests_and_stores_the_owners_fills(database, emulator, run_dag):
    funder = emulator.server.state.clob.funder
    dr = run_dag("clob_backfill", {"lookback": "all", "wallets": [funder], "source": "clob"})
    assert dr.state == DagRunState.SUCCESS
    assert stored_fills() == expected_fills(emulator, [funder])
    assert ch_rows("SELECT DISTINCT source FROM {db:Identifier}.clob_fills_v2")[0][0] == "clob"
    ledger, table_counts = ledger_and_table_counts()
    assert ledger == table_counts


def test_bad_params_fail_before_anything_is_written(database, emulator, run_dag, dagbag):
    seed_mapping(emulator)  # an installed bundle: its database and mappings exist, nothing else yet
    before = tables_and_checksums()
    with pytest.raises(Exception, match=r"wallets.*0x123|0x123.*wallets") as refused:
        run_dag("clob_backfill", {"lookback": "all", "wallets": [emulator.dataset.wallets[0], "0x123"]})
    assert WALLET_PATTERN in str(refused.value)  # names the rule too
    assert tables_and_checksums() == before  # no task ran: ensure_schema would have created the fills table

    # A conf that bypassed the trigger form (CLI, API) meets the same rule in the first task, upstream of every write.
    dag = dagbag.dags["clob_backfill"]
    plan = dag.get_task("plan_backfill")
    assert dag.get_task("ensure_schema").upstream_task_ids == {"plan_backfill"}
    with pytest.raises(ParamError, match=r"'wallets\[1\]' must be an address matching .*got '0x123'"):
        plan.python_callable(params={"lookback": "all", "source": "data_api", "wallets": [emulator.dataset.wallets[0], "0x123"]})


def tables_and_checksums() -> dict[str, tuple[int, int] | None]:
    names = [n for (n,) in ch_rows("SELECT name FROM system.tables WHERE database = {db:String} ORDER BY name")]
    return {name: checksum(name) for name in names}


def test_empty_mapping_and_no_wallets_fails_with_next_step(database, emulator, run_dag):
    dr = run_dag("clob_backfill", {"lookback": "30d"})
    assert dr.state == DagRunState.FAILED
    assert ch_rows("SELECT count() FROM {db:Identifier}.clob_fills_v2")[0][0] == 0
