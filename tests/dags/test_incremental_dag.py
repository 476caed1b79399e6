"""clob_incremental for real (dag.test): new and late fills between runs, and a failing wallet."""

from __future__ import annotations

import time

from airflow.sdk import DagRunState
from conftest import ch_rows
from fills_truth import expected_fills, physical_and_final_counts, stored_fills
from seeding import seed_mapping


def test_two_incremental_runs_with_new_and_late_fills_end_with_exactly_the_emulators_set(
    database, emulator_factory, run_dag, capfd
):
    now = int(time.time())
    emu = emulator_factory(
        wallets=4, proxy_users=2, fills_per_wallet=120, anchor_s=now - 600, history_days=30, late_fraction=0, rate_scale=0
    )
    seed_mapping(emu)
    assert run_dag("clob_incremental", {}).state == DagRunState.SUCCESS
    assert stored_fills() == expected_fills(emu, emu.dataset.wallets)

    watermarks = dict(ch_rows("SELECT wallet, toUnixTimestamp(last_fill_ts) FROM {db:Identifier}.wallet_sync_state FINAL"))
    for wallet, watermark in watermarks.items():  # late: older than the watermark, inside the 1 h overlap
        emu.post("/__emulator/new-fills", {"per_wallet": 2, "ts": watermark - 1200, "wallets": [wallet], "hidden": True})
    emu.post("/__emulator/new-fills", {"per_wallet": 3})  # new fills, now
    released = emu.post("/__emulator/release-late", {})["released"]  # the late ones become visible
    assert released >= 2 * len(emu.dataset.wallets)
    watermarks_before = dict(ch_rows("SELECT wallet, last_fill_ts FROM {db:Identifier}.wallet_sync_state FINAL"))

    capfd.readouterr()
    assert run_dag("clob_incremental", {}).state == DagRunState.SUCCESS
    summary = [line for line in capfd.readouterr().out.splitlines() if "incremental summary:" in line]
    new_fills = sum(3 + 2 for _ in emu.dataset.wallets)  # 3 new + 2 late per wallet
    stored_until = ch_rows("SELECT max(timestamp) FROM {db:Identifier}.clob_fills_v2")[0][0].strftime("%Y-%m-%dT%H:%M:%SZ")
    assert summary and (
        f"wallets=4 synced=4 failed=0 skipped_by_pause=0 pages=4 new_fills={new_fills} watermarks_moved=4 (from "
    ) in summary[-1]
    assert f" to {stored_until}) in " in summary[-1]
    assert stored_fills() == expected_fills(emu, emu.dataset.wallets)
    raw, final = physical_and_final_counts()
    assert raw == final
    after = dict(ch_rows("SELECT wallet, last_fill_ts FROM {db:Identifier}.wallet_sync_state FINAL"))
    assert all(after[w] > watermarks_before[w] for w in emu.dataset.wallets)

    assert run_dag("clob_incremental", {}).state == DagRunState.SUCCESS  # nothing new
    summary = [line for line in capfd.readouterr().out.splitlines() if "incremental summary:" in line]
    assert summary and "pages=4 new_fills=0 watermarks_moved=0 in " in summary[-1] and "none" not in summary[-1]


def test_a_failing_wallet_does_not_block_the_others_and_recovers_next_run(database, emulator_factory, run_dag):
    emu = emulator_factory(
        wallets=3,
        proxy_users=1,
        fills_per_wallet=50,
        anchor_s=int(time.time()) - 600,
        history_days=20,
        rate_scale=0,
        extra={"max_attempts": 1},
    )
    seed_mapping(emu)
    victim = emu.dataset.wallets[1]
    emu.post("/__emulator/faults", {"path": "/v2/trades", "user": victim, "status": 500, "count": 2})  # try + retry
    assert run_dag("clob_incremental", {}).state == DagRunState.FAILED
    others = [w for w in emu.dataset.wallets if w != victim]
    assert stored_fills() == expected_fills(emu, others)
    assert run_dag("clob_incremental", {}).state == DagRunState.SUCCESS
    assert stored_fills() == expected_fills(emu, emu.dataset.wallets)
