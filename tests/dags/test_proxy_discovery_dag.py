"""pm_proxy_discovery for real (dag.test) on chDB against the emulator; then the backfill uses it."""

from __future__ import annotations

from airflow.sdk import DagRunState
from conftest import ch_rows
from seeding import mappings, seed_metrics


def test_discovery_maps_proxy_users_skips_bad_input_and_reruns_change_nothing(database, emulator_factory, run_dag):
    emu = emulator_factory(wallets=10, proxy_users=7, fills_per_wallet=20, rate_scale=0)
    low_volume = "0x" + "77" * 20
    seed_metrics(emu, low=low_volume)
    dr = run_dag("pm_proxy_discovery", {"min_volume_usd": 10_000})
    assert dr.state == DagRunState.SUCCESS
    expected = {(u.user_eoa, u.proxy_wallet, u.wallet_type) for u in emu.dataset.users}
    assert mappings() == expected  # 7 proxy-separated (one only via CREATE2 + Data API), 3 direct
    assert sum(1 for eoa, proxy, _ in expected if eoa != proxy) >= 5
    by = dict(ch_rows("SELECT proxy_wallet, resolved_by FROM {db:Identifier}.pm_user_proxy_wallets_v2 FINAL"))
    hidden = next(u for u in emu.dataset.users if not u.in_gamma)
    assert by[hidden.proxy_wallet] == "create2+data_api"
    rows_before = ch_rows("SELECT count() FROM {db:Identifier}.pm_user_proxy_wallets_v2")[0][0]

    assert run_dag("pm_proxy_discovery", {"min_volume_usd": 10_000}).state == DagRunState.SUCCESS
    assert ch_rows("SELECT count() FROM {db:Identifier}.pm_user_proxy_wallets_v2")[0][0] == rows_before


def test_failed_lookups_never_remove_or_override_known_mappings(database, emulator_factory, run_dag):
    emu = emulator_factory(
        wallets=6, proxy_users=4, fills_per_wallet=10, rate_scale=0, extra={"max_attempts": 1, "backoff_base_s": 0.01}
    )
    seed_metrics(emu)
    assert run_dag("pm_proxy_discovery", {}).state == DagRunState.SUCCESS
    known = mappings()
    emu.post(
        "/__emulator/faults",
        [{"path": "/public-profile", "status": 503, "count": 1000}, {"path": "/v2/trades", "status": 503, "count": 1000}],
    )
    run_dag("pm_proxy_discovery", {})  # every lookup fails
    assert mappings() == known


def test_backfill_without_wallets_loads_every_mapped_wallet_with_its_eoa(database, emulator_factory, run_dag):
    emu = emulator_factory(wallets=6, proxy_users=4, fills_per_wallet=30, rate_scale=0)
    seed_metrics(emu)
    assert run_dag("pm_proxy_discovery", {}).state == DagRunState.SUCCESS
    assert run_dag("clob_backfill", {"lookback": "all"}).state == DagRunState.SUCCESS
    pairs = set(ch_rows("SELECT DISTINCT proxy_wallet, user_eoa FROM {db:Identifier}.clob_fills_v2 FINAL"))
    assert pairs == {(u.proxy_wallet, u.user_eoa) for u in emu.dataset.users}
    assert ch_rows("SELECT countIf(user_eoa = '') FROM {db:Identifier}.clob_fills_v2")[0][0] == 0


def test_a_failed_gamma_lookup_that_the_probes_resolve_is_said_and_counted(database, emulator_factory, run_dag, capfd):
    """Gamma fails for one Safe user; its CREATE2 Safe has trades, so it still resolves, and the resolve task
    says Gamma failed for that address and counts it (the next run looks it up again)."""
    emu = emulator_factory(
        wallets=4, proxy_users=3, fills_per_wallet=10, rate_scale=0, extra={"max_attempts": 1, "backoff_base_s": 0.01}
    )
    seed_metrics(emu)
    safe = next(u for u in emu.dataset.users if u.wallet_type == "safe" and u.in_gamma)
    emu.post("/__emulator/faults", [{"path": "/public-profile", "status": 503, "count": 1000, "user": safe.user_eoa}])
    capfd.readouterr()
    assert run_dag("pm_proxy_discovery", {}).state == DagRunState.SUCCESS
    out = "".join(capfd.readouterr())
    assert emu.stats()["fault:status"] >= 1
    assert f"Gamma lookup of {safe.user_eoa} failed" in out and "503" in out
    assert "failed=0 gamma_failed=1;" in out and "failed=0 gamma_failed=1 with" in out  # the task's line, the DAG's
    assert mappings() == {(u.user_eoa, u.proxy_wallet, u.wallet_type) for u in emu.dataset.users}
