"""clob_backfill (dag.test, merges stopped) when the API breaks the walk itself: rows of other wallets
(the user filter dropped, v1 and v2), offsets ignored while the served page size is unknown; and the
load tasks' derived ``execution_timeout``.

Each case ends with the table equal to the fills served, raw and FINAL, or with the wallet failed
loudly and only its own real fills stored; never with a foreign row under any wallet, never with a
walk that requests for ever.
"""

from __future__ import annotations

import pytest
from airflow.sdk import DagRunState
from fills_truth import expected_fills, physical_and_final_counts, stored_fills
from paging_checks import exact, inserted_nothing_again, load_tries, merges_stopped

from clob_pipeline.fills.load_timeout import load_timeout
from clob_pipeline.operators.fills_transfer import PolymarketFillsToClickHouseOperator

__all__ = ["merges_stopped"]  # the fixture, imported for pytest

V1 = "data_api_v1"


@pytest.mark.parametrize(("source", "endpoint"), [(V1, "/trades"), ("data_api_v2", "/v2/trades")])
def test_a_dropped_user_filter_stores_no_foreign_row_and_the_other_wallets_load(
    merges_stopped, emulator_factory, run_dag, capfd, source, endpoint
):
    emu = emulator_factory(wallets=3, proxy_users=1, fills_per_wallet=300, rate_scale=0, extra={"page_size": 100})
    wallets = emu.dataset.wallets
    victim = wallets[1]
    emu.post("/__emulator/paging", {"drop_user_filter": victim})
    capfd.readouterr()
    dr = run_dag("clob_backfill", {"lookback": "all", "wallets": wallets, "source": source})
    assert dr.state == DagRunState.FAILED
    assert load_tries(dr) == [1]  # not retried: the API would answer the same
    out = capfd.readouterr()
    assert f"wallet {victim}: {endpoint} answered" in out.out + out.err and "other wallets" in out.out + out.err
    stored = stored_fills()
    assert not stored - expected_fills(emu, wallets)  # no row under a wallet it does not belong to
    assert {row[0] for row in stored} == set(wallets) - {victim}  # the victim's first page was already foreign
    others = [w for w in wallets if w != victim]
    assert stored == expected_fills(emu, others)  # the task's other wallets loaded completely
    assert physical_and_final_counts() == (sum(stored.values()),) * 2
    assert emu.stats().get("paging:user_filter_dropped", 0) >= 1


def test_ignored_offsets_with_an_unknown_page_size_end_in_few_requests(merges_stopped, emulator_factory, run_dag):
    emu = emulator_factory(
        wallets=2, proxy_users=1, fills_per_wallet=600, rate_scale=0, paging={"offset_ignored_after": 0},
        extra={"page_size": 50},
    )  # fmt: skip
    wallets = emu.dataset.wallets
    # the served-size probe (the task's first /trades request, market-wide) fails: no size is known
    emu.post("/__emulator/faults", {"path": "/trades", "status": 400, "count": 1})
    conf = {"lookback": "all", "wallets": wallets, "source": V1}
    assert run_dag("clob_backfill", conf).state == DagRunState.SUCCESS
    exact(emu, wallets)
    pages = sum(len(emu.dataset.visible_fills(w)) for w in wallets) // 50
    assert emu.stats()["/trades"] <= 2 * pages + 10  # about one request per page, not one per offset
    inserted_nothing_again(run_dag, conf)


def test_load_tasks_carry_a_timeout_derived_from_their_work(database, emulator, run_dag, monkeypatch):
    from seeding import seed_mapping

    seed_mapping(emulator)
    seen: list = []
    execute = PolymarketFillsToClickHouseOperator.execute

    def recording(self, context):
        seen.append((len(self.wallets), self.execution_timeout))  # what the task runner enforces
        return execute(self, context)

    monkeypatch.setattr(PolymarketFillsToClickHouseOperator, "execute", recording)
    assert run_dag("clob_backfill", {"lookback": "30d", "wallets_per_task": 4}).state == DagRunState.SUCCESS
    assert sorted(n for n, _ in seen) == [2, 4]
    for wallets, timeout in seen:
        assert timeout == load_timeout(wallets, 30 * 86_400, 20.0)  # 200 requests per 10 s
    assert run_dag("clob_incremental", {"wallets_per_task": 6}).state == DagRunState.SUCCESS
    assert seen[-1] == (6, load_timeout(6, 90 * 86_400 + 3600, 20.0))


def test_clob_trades_served_for_another_wallet_are_never_stored(merges_stopped, emulator_factory, run_dag, capfd):
    """``maker_address`` ignored by the CLOB: asked for any wallet, it serves the key owner's trades."""
    emu = emulator_factory(
        wallets=2, proxy_users=1, fills_per_wallet=150, rate_scale=0, paging={"clob_ignore_maker": True}
    )  # fmt: skip
    funder = emu.server.state.clob.funder
    other = next(w for w in emu.dataset.wallets if w != funder)
    capfd.readouterr()
    dr = run_dag("clob_backfill", {"lookback": "all", "wallets": [funder, other], "source": "clob"})
    assert dr.state == DagRunState.FAILED and load_tries(dr) == [1]  # not retried: the API would answer the same
    out = capfd.readouterr()
    assert f"wallet {other}: /data/trades answered" in out.out + out.err
    assert emu.stats().get("paging:clob_maker_ignored", 0) >= 1  # the fault really happened
    assert stored_fills() == expected_fills(emu, [funder])  # the key owner's own, and nothing under the other wallet
    assert physical_and_final_counts() == (sum(expected_fills(emu, [funder]).values()),) * 2
