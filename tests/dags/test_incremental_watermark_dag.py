"""clob_incremental's window after a wallet's load failed part way (dag.test, merges stopped).

A newest-first walk stores the newest whole seconds before it fails. The table's newest fill has then
moved although the wallet's load did not finish: the next run must still read from the wallet's last
*completed* load (the ledger), or every fill between the old watermark and what the failed walk
reached is never loaded.
"""

from __future__ import annotations

import time

from airflow.sdk import DagRunState
from fills_truth import expected_fills, physical_and_final_counts, stored_fills
from paging_checks import merges_stopped
from seeding import seed_mapping

__all__ = ["merges_stopped"]  # the fixture, imported for pytest


def test_a_walk_that_failed_part_way_is_read_again_from_the_last_completed_load(
    merges_stopped, emulator_factory, run_dag, monkeypatch
):
    monkeypatch.setenv("CLOB_PIPELINE_BATCH_ROWS", "20")  # a checkpointed batch per page: the newest pages are stored
    emu = emulator_factory(
        wallets=2, proxy_users=1, fills_per_wallet=200, anchor_s=int(time.time()) - 600, history_days=20, late_fraction=0,
        rate_scale=0, extra={"page_size": 20, "max_attempts": 1},
    )  # fmt: skip
    seed_mapping(emu)
    wallets = emu.dataset.wallets
    victim = wallets[1]
    # the victim's walk fails for good after three pages (every try of the run)
    emu.post("/__emulator/faults", {"path": "/v2/trades", "user": victim, "status": 500, "count": 1000, "after": 3})
    assert run_dag("clob_incremental", {}).state == DagRunState.FAILED
    stored = stored_fills()
    partial = {f for f in stored if f[0] == victim}
    assert partial and len(partial) < len(set(expected_fills(emu, [victim])))  # the newest seconds only
    assert not stored - expected_fills(emu, wallets)

    emu.post("/__emulator/reset", {})  # the API works again
    assert run_dag("clob_incremental", {}).state == DagRunState.SUCCESS
    assert stored_fills() == expected_fills(emu, wallets)  # no gap below what the failed walk reached
    assert physical_and_final_counts() == (sum(expected_fills(emu, wallets).values()),) * 2
