"""clob_backfill and clob_incremental through the Data API v2 (the default source), with merges stopped:
one identity across v1, v2 and the CLOB, the v2 minimum-size blind spot, and v2's own faults.

Each case ends with the table equal to the fills served, raw and FINAL, and the loaders' ledger equal
to the table; or with the run failed loudly and only real fills stored.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import pytest
from airflow.sdk import DagRunState
from conftest import ch_rows
from fills_truth import Q6, expected_fills, ledger_and_table_counts, physical_and_final_counts, stored_fills
from paging_checks import exact, inserted_nothing_again, merges_stopped

__all__ = ["merges_stopped"]  # the fixture, imported for pytest

V1, V2 = "data_api_v1", "data_api_v2"


@pytest.mark.parametrize("sources", [(V1, V2, V1), (V2, V1, V2)], ids=["v1-v2-v1", "v2-v1-v2"])
def test_v1_then_v2_then_v1_stores_each_fill_once(merges_stopped, emulator_factory, run_dag, sources):
    emu = emulator_factory(
        wallets=3, proxy_users=2, fills_per_wallet=500, rate_scale=0, burst_fills=150, burst_distinct=2,
        extra={"page_size": 70},
    )  # fmt: skip
    wallets = emu.dataset.wallets
    conf = {"lookback": "all", "wallets": wallets}
    for source in sources:
        assert run_dag("clob_backfill", {**conf, "source": source}).state == DagRunState.SUCCESS
        exact(emu, wallets)  # raw == FINAL == the served fills after every step: no fill got a second id
    assert max(expected_fills(emu, wallets).values()) >= 70  # the burst: identical fills over more than one page
    assert emu.stats()["/v2/trades"] and emu.stats()["/trades"]
    ledger, table = ledger_and_table_counts()
    assert ledger == table
    assert set(ch_rows("SELECT DISTINCT source FROM {db:Identifier}.clob_fills_v2")) == {("data_api",)}


def test_the_default_source_is_v2_and_data_api_means_it(merges_stopped, emulator_factory, run_dag, capfd):
    emu = emulator_factory(wallets=2, proxy_users=1, fills_per_wallet=200, rate_scale=0)
    wallets = emu.dataset.wallets
    assert run_dag("clob_backfill", {"lookback": "all", "wallets": wallets}).state == DagRunState.SUCCESS
    exact(emu, wallets)
    assert emu.stats()["/v2/trades"] == len(wallets) and not emu.stats().get("/trades")  # one page each, no probe
    capfd.readouterr()
    inserted_nothing_again(run_dag, {"lookback": "all", "wallets": wallets, "source": "data_api"})
    assert "source=data_api_v2" in capfd.readouterr().out


def test_an_incremental_on_v2_after_a_v1_backfill_adds_only_new_fills(merges_stopped, emulator_factory, run_dag):
    import time

    from seeding import seed_mapping

    emu = emulator_factory(
        wallets=3, proxy_users=2, fills_per_wallet=200, rate_scale=0, anchor_s=int(time.time()) - 300, history_days=20
    )
    seed_mapping(emu)
    assert run_dag("clob_backfill", {"lookback": "all", "source": V1}).state == DagRunState.SUCCESS
    emu.post("/__emulator/new-fills", {"per_wallet": 3})  # arrive now, inside the overlap
    assert run_dag("clob_incremental", {}).state == DagRunState.SUCCESS  # default source: v2
    exact(emu, emu.dataset.wallets)
    ledger, table = ledger_and_table_counts()
    assert ledger == table


def add_tiny_fills(emu, wallet: str, n: int = 3) -> list:
    """Fills below v2's 0.01-share minimum (v1 serves them, v2 never does)."""
    fills = emu.dataset.visible_fills(wallet)
    tiny = [f._replace(size=0.005, tx=f"0x{'ee' * 31}{i:02x}") for i, f in enumerate(fills[10 : 10 + n])]
    emu.dataset._merge(wallet, tiny)
    return tiny


def test_v2_does_not_see_fills_below_its_minimum_size_and_nothing_counts_them_lost(
    merges_stopped, emulator_factory, run_dag, capfd
):
    emu = emulator_factory(wallets=2, proxy_users=1, fills_per_wallet=200, rate_scale=0)
    wallets = emu.dataset.wallets
    tiny = add_tiny_fills(emu, wallets[0])
    conf = {"lookback": "all", "wallets": wallets}
    capfd.readouterr()
    assert run_dag("clob_backfill", conf).state == DagRunState.SUCCESS  # v2
    assert "v2 does not serve fills below 0.01 shares" in capfd.readouterr().out  # the wallet's closing line says so
    truth = expected_fills(emu, wallets)
    small = Counter(k for k in truth.elements() if k[4] < Decimal("0.01"))
    assert sum(small.values()) == len(tiny)
    assert stored_fills() == truth - small  # everything else, exactly
    assert run_dag("clob_backfill", {**conf, "source": V1}).state == DagRunState.SUCCESS  # v1 serves them
    exact(emu, wallets)
    assert run_dag("clob_backfill", conf).state == DagRunState.SUCCESS  # v2 again: nothing removed, nothing added
    exact(emu, wallets)
    ledger, table = ledger_and_table_counts()
    assert ledger == table  # the ledger keeps counting the small fills v2 cannot see
    assert physical_and_final_counts()[0] == sum(truth.values())
    assert all(k[4] == Decimal(repr(0.005)).quantize(Q6) for k in small)
