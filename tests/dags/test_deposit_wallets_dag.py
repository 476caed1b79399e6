"""Deposit wallets end to end (dag.test on chDB against the emulator): pm_proxy_discovery stores each
wallet type, mapping tables of older versions are upgraded and re-typed, and the promotion's mapping
check counts deposit wallets as proxy-separated."""

from __future__ import annotations

import time

from airflow.sdk import DagRunState
from conftest import ch_rows
from seeding import mappings, seed_metrics, task_states

from clob_pipeline.proxy.derive import derive_deposit_wallets

CHECK = "check_proxy_separated_mappings"


def resolved_by() -> dict[str, str]:
    return dict(ch_rows("SELECT proxy_wallet, resolved_by FROM {db:Identifier}.pm_user_proxy_wallets_v2 FINAL"))


def test_discovery_types_every_kind_and_the_promotion_counts_deposit_wallets(database, emulator_factory, run_dag, capfd):
    recent = {"anchor_s": int(time.time()) - 600, "history_days": 10, "late_fraction": 0}  # every fill promotable
    emu = emulator_factory(wallets=8, proxy_users=4, deposit_users=3, fills_per_wallet=10, rate_scale=0, **recent)
    users = emu.dataset.users
    deposits = [u for u in users if u.wallet_type == "deposit"]
    # every kind, with and without a Gamma profile where it matters; both deposit-wallet forms
    assert {(u.wallet_type, u.in_gamma) for u in users} == {
        ("proxy", True), ("safe", True), ("safe", False), ("deposit", True), ("deposit", False), ("direct", True)
    }  # fmt: skip
    assert {derive_deposit_wallets(u.user_eoa).index(u.proxy_wallet) for u in deposits} == {0, 1}
    seed_metrics(emu)

    assert run_dag("pm_proxy_discovery", {}).state == DagRunState.SUCCESS
    assert mappings() == {(u.user_eoa, u.proxy_wallet, u.wallet_type) for u in users}
    by = resolved_by()
    assert {by[u.proxy_wallet] for u in deposits if u.in_gamma} == {"gamma+create2"}  # Gamma named it, CREATE2 typed it
    assert {by[u.proxy_wallet] for u in deposits if not u.in_gamma} == {"create2+data_api"}  # found by its history
    assert "proxy_separated=7 (proxy=2 safe=2 deposit=3)" in "".join(capfd.readouterr())

    # The mapping check counts the 3 deposit wallets: 7 users pass a minimum of 7, and 8 fail it.
    assert run_dag("clob_backfill", {"lookback": "all"}).state == DagRunState.SUCCESS
    capfd.readouterr()
    ok = run_dag("clob_promotion", {"dry_run": True, "min_wallets": 8, "min_proxy_mappings": 7})
    assert ok.state == DagRunState.SUCCESS, task_states(ok)
    assert "mappings=8 proxy_separated=7 proxy=2 safe=2 deposit=3 min_proxy_mappings=7" in "".join(capfd.readouterr())
    refused = run_dag("clob_promotion", {"dry_run": True, "min_wallets": 8, "min_proxy_mappings": 8})
    assert refused.state == DagRunState.FAILED and task_states(refused)[CHECK] == "failed"


def test_older_mapping_tables_are_upgraded_and_deposit_wallets_retyped(database, emulator_factory, run_dag):
    """A deposit wallet an older version stored as an unverified ``proxy`` (Gamma named it) becomes
    ``deposit`` in staging, production and ``*_old``; a production table without ``wallet_type`` gets
    the column and its rows the types CREATE2 proves; discovery re-types a known pair it can prove."""
    from clob_pipeline.hooks.clickhouse import ClickHouseHook

    emu = emulator_factory(wallets=5, proxy_users=2, deposit_users=2, fills_per_wallet=5, rate_scale=0)
    proxy, safe, named, hidden, direct = emu.dataset.users
    assert (named.wallet_type, named.in_gamma, hidden.wallet_type, hidden.in_gamma) == ("deposit", True, "deposit", False)
    unknown = ("0x" + "11" * 20, "0x" + "22" * 20)  # a pair no derivation explains: left as it is
    old_layout = (
        "CREATE TABLE {db:Identifier}.pm_user_proxy_wallets (user_eoa String, proxy_wallet String, "
        "resolved_by LowCardinality(String), resolved_at DateTime64(3, 'UTC'), updated_at DateTime64(6, 'UTC')) "
        "ENGINE = ReplacingMergeTree(updated_at) ORDER BY (user_eoa, proxy_wallet)"
    )
    with ClickHouseHook() as ch:
        ch.run_sql_file("schema/database.sql")
        for table in ("pm_user_proxy_wallets_v2", "pm_user_proxy_wallets_old"):
            ch.run_sql_file("schema/proxy_table.sql", {"proxy_table": table})
            ch.bulk_insert_rows(
                table,
                [
                    [named.user_eoa, named.proxy_wallet, "proxy", "gamma"],  # what the older version stored
                    [proxy.user_eoa, proxy.proxy_wallet, "proxy", "gamma+create2"],
                ],
                column_names=["user_eoa", "proxy_wallet", "wallet_type", "resolved_by"],
            )
        # a row some other writer typed wrong: only discovery (which re-resolves the EOA) can fix it
        ch.bulk_insert_rows(
            "pm_user_proxy_wallets_v2",
            [[hidden.user_eoa, hidden.proxy_wallet, "safe", "manual"]],
            column_names=["user_eoa", "proxy_wallet", "wallet_type", "resolved_by"],
        )
        ch.run_statements(old_layout)
        ch.bulk_insert_rows(
            "pm_user_proxy_wallets",
            [[u.user_eoa, u.proxy_wallet, "gamma"] for u in (named, safe, direct)] + [[*unknown, "gamma"]],
            column_names=["user_eoa", "proxy_wallet", "resolved_by"],
        )
    seed_metrics(emu)

    assert run_dag("pm_proxy_discovery", {}).state == DagRunState.SUCCESS

    assert mappings("pm_user_proxy_wallets_old") == {
        (named.user_eoa, named.proxy_wallet, "deposit"), (proxy.user_eoa, proxy.proxy_wallet, "proxy")
    }  # fmt: skip
    assert mappings("pm_user_proxy_wallets") == {
        (named.user_eoa, named.proxy_wallet, "deposit"),
        (safe.user_eoa, safe.proxy_wallet, "safe"),
        (direct.user_eoa, direct.proxy_wallet, "direct"),
        (*unknown, ""),
    }
    assert mappings() == {(u.user_eoa, u.proxy_wallet, u.wallet_type) for u in emu.dataset.users}
    assert resolved_by()[named.proxy_wallet] == "gamma+create2"
    final_rows = ch_rows("SELECT count() FROM {db:Identifier}.pm_user_proxy_wallets_v2 FINAL")[0][0]
    raw_rows = ch_rows("SELECT count() FROM {db:Identifier}.pm_user_proxy_wallets_v2")[0][0]

    assert run_dag("pm_proxy_discovery", {}).state == DagRunState.SUCCESS  # nothing left to upgrade or re-type
    assert ch_rows("SELECT count() FROM {db:Identifier}.pm_user_proxy_wallets_v2")[0][0] == raw_rows
    assert final_rows == len(emu.dataset.users)
