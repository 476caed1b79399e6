"""EOAs that trade from two wallets (dag.test on chDB against the emulator): pm_proxy_discovery maps
both wallets of each (the one Gamma names and the one only the Data API shows), clob_backfill loads
both under their own pair, the promotion's mapping check counts each such user once, and a re-run
of discovery adds nothing."""

from __future__ import annotations

import time

from airflow.sdk import DagRunState
from conftest import ch_rows
from fills_truth import expected_fills, stored_fills
from seeding import mappings, seed_metrics, task_states


def test_discovery_maps_every_wallet_of_an_eoa_and_the_backfill_loads_each(database, emulator_factory, run_dag, capfd):
    recent = {"anchor_s": int(time.time()) - 600, "history_days": 10, "late_fraction": 0}  # every fill promotable
    emu = emulator_factory(
        wallets=6, proxy_users=4, deposit_users=1, two_wallet_users=2, fills_per_wallet=15, rate_scale=0, **recent
    )
    users = emu.dataset.users
    safe_user, proxy_user = users[1], users[2]  # Gamma names their Safe / proxy; each has a second wallet
    by_eoa = {
        eoa: {(u.proxy_wallet, u.wallet_type) for u in users if u.user_eoa == eoa}
        for eoa in (safe_user.user_eoa, proxy_user.user_eoa)
    }
    assert {kind for _, kind in by_eoa[safe_user.user_eoa]} == {"safe", "deposit"}
    assert {kind for _, kind in by_eoa[proxy_user.user_eoa]} == {"proxy", "direct"}
    seed_metrics(emu)

    assert run_dag("pm_proxy_discovery", {}).state == DagRunState.SUCCESS
    assert mappings() == {(u.user_eoa, u.proxy_wallet, u.wallet_type) for u in users}  # 8 wallets of 6 EOAs
    by = dict(ch_rows("SELECT (user_eoa, proxy_wallet), resolved_by FROM {db:Identifier}.pm_user_proxy_wallets_v2 FINAL"))
    second_deposit, second_direct = users[6], users[7]
    assert by[safe_user.user_eoa, safe_user.proxy_wallet] == by[proxy_user.user_eoa, proxy_user.proxy_wallet] == "gamma+create2"
    assert by[second_deposit.user_eoa, second_deposit.proxy_wallet] == "create2+data_api"  # Gamma does not name it
    assert by[second_direct.user_eoa, second_direct.proxy_wallet] == "data_api"
    out = "".join(capfd.readouterr())
    assert "looked_up=6 wallets=8 direct=2 proxy_separated=6 (proxy=2 safe=2 deposit=2) several_wallets=2" in out
    assert "now 8 mappings of 6 users" in out and "2 users with several wallets" in out

    # Each wallet is loaded under its own pair: both wallets of both EOAs, every served fill once.
    assert run_dag("clob_backfill", {"lookback": "all"}).state == DagRunState.SUCCESS
    assert stored_fills() == expected_fills(emu, emu.dataset.wallets) and len(emu.dataset.wallets) == 8
    pairs = set(ch_rows("SELECT DISTINCT proxy_wallet, user_eoa FROM {db:Identifier}.clob_fills_v2 FINAL"))
    assert pairs == {(u.proxy_wallet, u.user_eoa) for u in users}

    # The mapping check counts users: 5 EOAs have a wallet other than themselves (6 such rows).
    capfd.readouterr()
    ok = run_dag("clob_promotion", {"dry_run": True, "min_wallets": 8, "min_proxy_mappings": 5})
    assert ok.state == DagRunState.SUCCESS, task_states(ok)
    assert "mappings=8 proxy_separated=5 proxy=2 safe=2 deposit=2 min_proxy_mappings=5" in "".join(capfd.readouterr())

    rows = ch_rows("SELECT count() FROM {db:Identifier}.pm_user_proxy_wallets_v2")[0][0]
    assert run_dag("pm_proxy_discovery", {}).state == DagRunState.SUCCESS
    assert ch_rows("SELECT count() FROM {db:Identifier}.pm_user_proxy_wallets_v2")[0][0] == rows == 8
    assert "new_rows=0 retyped=0" in "".join(capfd.readouterr())
