"""clob_reconcile and the promotion's check_chain_reconciliation (dag.test) against the emulator's chain,
with merges stopped: omitted fills are named with their hashes and block the promotion, merged API rows
reconcile, resized ones do not, tiny fills are "not served by v2", and a clean staging set passes."""

from __future__ import annotations

import re

import pytest
from airflow.sdk import DagRunState
from chain_env import NARROW_ERAS, point_polygon_rpc
from conftest import ch_rows
from paging_checks import stop_merges
from seeding import checksums, seed_mapping, task_states

RECONCILE = {"target": "staging", "days": 400}
PROMOTE = {"min_wallets": 1, "min_proxy_mappings": 0, "reconcile_days": 400, "approval": "auto"}


@pytest.fixture()
def loaded(database, emulator_factory, monkeypatch, run_dag):
    """Staging loaded from the Data API of an emulator whose chain has ``chain`` faults."""

    def start(chain: dict | None = None, source: str = "data_api", **kwargs):
        stop_merges("clob_fills_v2", "clob_chain_fills")
        emu = emulator_factory(wallets=3, proxy_users=1, fills_per_wallet=80, rate_scale=0, chain=chain or {}, **kwargs)
        point_polygon_rpc(monkeypatch, emu, chain_config=NARROW_ERAS, logs_initial_span=2_000_000, logs_max_span=20_000_000)
        seed_mapping(emu)
        assert run_dag("clob_backfill", {"lookback": "all", "source": source}).state == DagRunState.SUCCESS
        return emu

    return start


def reconciliation_rows(wallet: str) -> dict:
    rows = ch_rows(
        "SELECT sum(chain_only_fills), sum(api_only_rows), sum(mismatched), sum(matched), sum(not_served_by_v2), "
        "arrayFlatten(groupArray(chain_only_tx)), arrayFlatten(groupArray(not_served_tx)) "
        "FROM {db:Identifier}.clob_reconciliation WHERE wallet = {w:String}",
        {"w": wallet},
    )[0]
    return dict(zip(("chain_only", "api_only", "mismatched", "matched", "not_served", "chain_only_tx", "not_served_tx"), rows))


def test_omitted_fills_are_named_with_their_hashes_merged_rows_reconcile_resized_ones_do_not(loaded, run_dag, capfd):
    emu = loaded({"api_omits": {"0": 3}, "api_resizes": {"1": 1}, "api_merges": {"2": 2}})
    wallets, applied = emu.dataset.wallets, emu.server.chain.faults_applied
    capfd.readouterr()
    dr = run_dag("clob_reconcile", RECONCILE)
    assert dr.state == DagRunState.FAILED
    out = capfd.readouterr()
    log = out.out + out.err
    omitted = sorted(applied[wallets[0]]["omitted"])
    assert "3 wallets: 1 complete" in log
    named = re.search(rf"{wallets[0]}: API is missing 3 fills \(tx ([0-9a-fx, ]+)\)", log)
    assert named and sorted(named.group(1).split(", ")) == omitted  # the wallet, N and the hashes
    assert f"{wallets[1]}: API serves 1 trade with other amounts than the chain" in log
    first = reconciliation_rows(wallets[0])
    assert (first["chain_only"], first["api_only"], first["mismatched"]) == (3, 0, 0)
    assert sorted(first["chain_only_tx"]) == omitted
    second = reconciliation_rows(wallets[1])
    assert (second["chain_only"], second["api_only"], second["mismatched"]) == (0, 0, 1)
    third = reconciliation_rows(wallets[2])
    assert (third["chain_only"], third["api_only"], third["mismatched"]) == (0, 0, 0)  # merged rows still match
    assert third["matched"] > 0
    assert len(applied[wallets[2]]["merged"]) == 2

    before = checksums()
    capfd.readouterr()
    dr = run_dag("clob_promotion", PROMOTE)
    assert dr.state == DagRunState.FAILED
    states = task_states(dr)
    assert states["check_chain_reconciliation"] == "failed" and states["swap_tables"] != "success"
    assert checksums() == before  # blocked: nothing swapped
    out = capfd.readouterr()
    assert f"{wallets[0]}: API is missing 3 fills" in out.out + out.err


def test_a_clean_staging_set_reconciles_complete_and_promotes(loaded, run_dag, capfd):
    emu = loaded()
    capfd.readouterr()
    assert run_dag("clob_reconcile", RECONCILE).state == DagRunState.SUCCESS
    out = capfd.readouterr()
    assert "3 wallets: 3 complete" in out.out + out.err
    before = ch_rows("SELECT count() FROM {db:Identifier}.clob_chain_fills")[0][0]
    dr = run_dag("clob_promotion", PROMOTE)
    assert dr.state == DagRunState.SUCCESS and task_states(dr)["check_chain_reconciliation"] == "success"
    summary = dr.get_task_instance("audit_promote").xcom_pull(task_ids="audit_promote")["summary_md"]
    assert "Chain reconciliation of clob_fills_v2 (newest run): 3 wallets, all complete." in summary  # what on-call reads
    assert ch_rows("SELECT count() FROM {db:Identifier}.clob_chain_fills")[0][0] == before  # no block read twice
    runs = ch_rows(
        "SELECT uniqExact(run_id), sum(chain_only_fills + api_only_rows + mismatched) FROM {db:Identifier}.clob_reconciliation"
    )
    assert runs == [(2, 0)]  # both runs kept (history), none off
    assert len(emu.dataset.wallets) == 3


def test_fills_below_the_v2_minimum_are_not_served_by_v2_not_losses(loaded, run_dag, capfd):
    emu = loaded({"api_omits_below_min": {"0": 2}}, source="data_api_v1")
    wallet = emu.dataset.wallets[0]
    capfd.readouterr()
    assert run_dag("clob_reconcile", {**RECONCILE, "wallets": [wallet]}).state == DagRunState.FAILED  # v1 serves them
    assert reconciliation_rows(wallet)["chain_only"] == 2
    # The same wallet loaded again through v2 (the ledger records it): v2 never serves those fills.
    v2_load = {"lookback": "all", "source": "data_api_v2", "wallets": [wallet]}
    assert run_dag("clob_backfill", v2_load).state == DagRunState.SUCCESS
    capfd.readouterr()
    assert run_dag("clob_reconcile", {**RECONCILE, "wallets": [wallet]}).state == DagRunState.SUCCESS
    out = capfd.readouterr()
    assert "2 fills below 0.01 shares not served by v2 (not a loss)" in out.out + out.err
    latest = ch_rows(
        "SELECT sum(not_served_by_v2), sum(chain_only_fills) FROM {db:Identifier}.clob_reconciliation "
        "WHERE run_id = (SELECT argMax(run_id, reconciled_at) FROM {db:Identifier}.clob_reconciliation)"
    )
    assert latest == [(2, 0)]


def test_a_tiny_fill_in_the_transaction_of_a_served_one_is_not_served_by_v2_not_a_mismatch(loaded, run_dag, capfd):
    """One transaction fills the wallet's 0.005-share order beside a served one of the same token and side:
    v2 serves the larger only, so the group's API sum is the chain's minus the tiny fill."""
    emu = loaded({"api_omits_below_min_in_tx": {"0": 2}}, source="data_api_v2")
    wallet = emu.dataset.wallets[0]
    touched = sorted(emu.server.chain.faults_applied[wallet]["below_min"])
    capfd.readouterr()
    assert run_dag("clob_reconcile", {**RECONCILE, "wallets": [wallet]}).state == DagRunState.SUCCESS
    out = capfd.readouterr()
    assert "2 fills below 0.01 shares not served by v2 (not a loss)" in out.out + out.err
    rows = reconciliation_rows(wallet)
    assert (rows["chain_only"], rows["api_only"], rows["mismatched"], rows["not_served"]) == (0, 0, 0, 2), rows
    assert sorted(rows["not_served_tx"]) == touched and rows["matched"] > 0


def test_without_polygon_rpc_the_promotion_check_passes_saying_it_was_skipped(database, emulator, run_dag, capfd):
    seed_mapping(emulator)
    assert run_dag("clob_backfill", {"lookback": "all"}).state == DagRunState.SUCCESS
    capfd.readouterr()
    dr = run_dag("clob_promotion", PROMOTE)
    assert dr.state == DagRunState.SUCCESS and task_states(dr)["check_chain_reconciliation"] == "success"
    out = capfd.readouterr()
    skipped = "SKIPPED: reconciliation of clob_fills_v2 against the chain did not run: no polygon_rpc connection"
    assert skipped in out.out + out.err
    dr = run_dag("clob_reconcile", RECONCILE)
    assert task_states(dr)["reconcile"] == "skipped"
