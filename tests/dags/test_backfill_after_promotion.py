"""The runbook's cycle on dag.test: after a promotion moved the staging mappings to production, a
backfill with no ``wallets`` still loads every tracked wallet, and the next promotion passes."""

from __future__ import annotations

import time

from airflow.sdk import DagRunState
from conftest import ch_rows
from fills_truth import expected_fills, stored_fills
from seeding import seed_mapping, task_states


def test_backfill_promote_backfill_promote(database, emulator_factory, run_dag, capfd):
    emu = emulator_factory(
        wallets=6, proxy_users=5, fills_per_wallet=20, anchor_s=int(time.time()) - 600, history_days=10, rate_scale=0
    )
    seed_mapping(emu)
    mappings = set(ch_rows("SELECT user_eoa, proxy_wallet FROM {db:Identifier}.pm_user_proxy_wallets_v2 FINAL"))
    assert run_dag("clob_backfill", {"lookback": "all"}).state == DagRunState.SUCCESS
    first = run_dag("clob_promotion", {"approval": "auto"})
    assert first.state == DagRunState.SUCCESS, task_states(first)
    assert ch_rows("SELECT count() FROM {db:Identifier}.pm_user_proxy_wallets_v2")[0][0] == 0  # staging moved
    capfd.readouterr()

    again = run_dag("clob_backfill", {"lookback": "all"})

    assert again.state == DagRunState.SUCCESS, task_states(again)
    assert f"copied {len(mappings)} mapping(s) from the live pm_user_proxy_wallets" in capfd.readouterr().out
    assert set(ch_rows("SELECT user_eoa, proxy_wallet FROM {db:Identifier}.pm_user_proxy_wallets_v2 FINAL")) == mappings
    assert stored_fills() == expected_fills(emu, emu.dataset.wallets)
    second = run_dag("clob_promotion", {"approval": "auto"})
    assert second.state == DagRunState.SUCCESS, task_states(second)
    assert set(ch_rows("SELECT user_eoa, proxy_wallet FROM {db:Identifier}.pm_user_proxy_wallets FINAL")) == mappings
