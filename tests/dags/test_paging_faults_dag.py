"""clob_backfill (dag.test) against every reported Data API paging behaviour, switched on in the emulator.

Each case holds the table equal to the fills the API serves, read raw and with FINAL while merges are
stopped (so a duplicate cannot be merged away before the count), and a second run inserts nothing;
or the run fails loudly naming the second, with only real fills stored.
"""

from __future__ import annotations

from collections import Counter

import pytest
from airflow.sdk import DagRunState
from conftest import ch_rows
from fills_truth import expected_fills, physical_and_final_counts, stored_fills
from paging_checks import backfill_under_paging_fault, exact, inserted_nothing_again, merges_stopped

__all__ = ["merges_stopped"]  # the fixture, imported for pytest

V1 = "data_api_v1"  # these faults are v1 /trades behaviours (v2's are in test_data_api_v2_dag.py)


@pytest.mark.parametrize(
    "paging",
    [
        {"shuffle_ties": True, "seed": 3},
        {"limit_max": 40},
        {"end_exclusive": True, "start_exclusive": True},
        {"offset_ignored_after": 40, "offset_400_after": 80},
    ],
    ids=["shuffled-ties", "clamped-limit", "exclusive-bounds", "offsets-ignored-and-capped"],
)
def test_paging_faults_leave_exactly_the_served_fills(merges_stopped, emulator_factory, run_dag, paging):
    _, conf = backfill_under_paging_fault(run_dag, emulator_factory, paging, V1, page_size=100)
    inserted_nothing_again(run_dag, conf)


def test_fills_arriving_while_paging_are_not_stored_twice(merges_stopped, emulator_factory, run_dag):
    emu = emulator_factory(wallets=2, proxy_users=1, fills_per_wallet=400, rate_scale=0, extra={"page_size": 50})
    wallets = emu.dataset.wallets
    before = expected_fills(emu, wallets)
    emu.post("/__emulator/paging", {"shift_rows": True, "shift_by": 3, "shift_identical": True, "shift_times": 6})
    conf = {"lookback": "all", "wallets": wallets, "source": V1}
    assert run_dag("clob_backfill", conf).state == DagRunState.SUCCESS
    assert stored_fills() == before  # the new fills are newer than every second already read
    assert physical_and_final_counts() == (sum(before.values()),) * 2
    assert run_dag("clob_backfill", conf).state == DagRunState.SUCCESS  # a later run reads them once
    exact(emu, wallets)
    inserted_nothing_again(run_dag, conf)


@pytest.mark.parametrize(
    ("paging", "message"),
    [
        ({"ignore_end": True}, "ignored end="),
        ({"offset_ignored_after": 500}, "cannot serve second"),
        ({"shuffle_ties": True}, "cannot serve second"),
    ],
    ids=["end-ignored", "burst-offsets-ignored", "burst-unstable-order"],
)
def test_what_the_api_cannot_serve_fails_loudly_with_only_real_fills_stored(
    merges_stopped, emulator_factory, run_dag, capfd, paging, message
):
    emu = emulator_factory(
        wallets=1, proxy_users=0, fills_per_wallet=300, rate_scale=0, paging=paging, burst_fills=1500, burst_distinct=3,
        burst_ts=1_790_000_000 - 30 * 86_400, extra={"page_size": 500},
    )  # fmt: skip
    wallets = emu.dataset.wallets
    capfd.readouterr()
    dr = run_dag("clob_backfill", {"lookback": "all", "wallets": wallets, "source": V1})
    assert dr.state == DagRunState.FAILED
    assert [ti.try_number for ti in dr.get_task_instances() if ti.task_id == "load_wallet_fills"] == [1]  # not retried
    out = capfd.readouterr()
    assert message in out.out + out.err
    stored, truth = stored_fills(), expected_fills(emu, wallets)
    assert stored and not stored - truth  # only real fills, each at most as often as served
    raw, final = physical_and_final_counts()
    assert raw == final == sum(stored.values())
    newest_missing = max((f[-1] for f in (truth - stored).elements()), default=None)
    assert newest_missing is not None and all(f[-1] > newest_missing for f in stored.elements())  # whole seconds above


def test_one_wallet_through_both_sources_is_each_fill_once(merges_stopped, emulator_factory, run_dag, capfd):
    emu = emulator_factory(wallets=2, proxy_users=1, fills_per_wallet=300, rate_scale=0, burst_fills=40, burst_distinct=2)
    funder = emu.server.state.clob.funder
    assert run_dag("clob_backfill", {"lookback": "all", "wallets": [funder], "source": "clob"}).state == DagRunState.SUCCESS
    exact(emu, [funder])
    assert run_dag("clob_backfill", {"lookback": "all", "wallets": [funder], "source": V1}).state == DagRunState.SUCCESS
    exact(emu, [funder])  # the CLOB's rows (higher version) stay; no Data API row was added
    sources = dict(ch_rows("SELECT source, count() FROM {db:Identifier}.clob_fills_v2 GROUP BY source"))
    assert sources == {"clob": sum(expected_fills(emu, [funder]).values())}


def test_data_api_then_clob_replaces_versions_without_new_fills(merges_stopped, emulator_factory, run_dag):
    emu = emulator_factory(wallets=2, proxy_users=1, fills_per_wallet=300, rate_scale=0, burst_fills=40, burst_distinct=2)
    funder = emu.server.state.clob.funder
    assert run_dag("clob_backfill", {"lookback": "all", "wallets": [funder], "source": V1}).state == DagRunState.SUCCESS
    exact(emu, [funder])
    assert run_dag("clob_backfill", {"lookback": "all", "wallets": [funder], "source": "clob"}).state == DagRunState.SUCCESS
    truth = expected_fills(emu, [funder])
    assert stored_fills() == truth
    raw, final = physical_and_final_counts()
    distinct = ch_rows("SELECT uniqExact(fill_id) FROM {db:Identifier}.clob_fills_v2")[0][0]
    assert final == distinct == sum(truth.values())  # one id per fill across sources
    assert raw == 2 * final  # the CLOB version of every fill, until a merge keeps only it
    assert Counter(r[0] for r in ch_rows("SELECT source FROM {db:Identifier}.clob_fills_v2 FINAL")) == {"clob": final}


def test_a_200_that_is_not_a_page_is_retried_and_the_retry_stores_exactly_the_served_fills(
    merges_stopped, emulator_factory, run_dag
):
    emu = emulator_factory(wallets=2, proxy_users=1, fills_per_wallet=400, rate_scale=0, extra={"page_size": 100})
    wallets = emu.dataset.wallets
    emu.post("/__emulator/faults", {"path": "/trades", "kind": "error_body", "user": wallets[0], "after": 2, "count": 1})
    conf = {"lookback": "all", "wallets": wallets, "source": V1}
    dr = run_dag("clob_backfill", conf)
    assert dr.state == DagRunState.SUCCESS
    assert emu.stats().get("fault:error_body") == 1  # the first try really got the error object midway
    assert [ti.try_number for ti in dr.get_task_instances() if ti.task_id == "load_wallet_fills"] == [2]
    exact(emu, wallets)  # raw and FINAL: nothing from the error body, nothing twice after the retry
    inserted_nothing_again(run_dag, conf)
