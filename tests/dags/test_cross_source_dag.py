"""One wallet loaded through the Data API and then the CLOB (dag.test, merges stopped). Where the two describe
each fill alike, every fill is one row, raw and FINAL, and the promotion passes; where the CLOB's match time
precedes the block time (emulator ``clob_match_early_s``), each fill gets two ids, and the promotion's
``check_content_not_overcounted`` blocks the swap, naming the trade sides, with production untouched."""

from __future__ import annotations

import pytest
from airflow.sdk import DagRunState
from fills_truth import expected_fills, physical_and_final_counts
from paging_checks import merges_stopped
from seeding import checksums, seed_mapping, task_states

__all__ = ["merges_stopped"]  # the fixture, imported for pytest

PROMOTE = {"approval": "auto", "min_wallets": 1, "min_proxy_mappings": 0}


@pytest.mark.parametrize("early_s", [0, 2])
def test_a_fill_the_clob_and_the_data_api_describe_differently_blocks_the_promotion(
    merges_stopped, emulator_factory, run_dag, capfd, early_s
):
    emu = emulator_factory(wallets=2, proxy_users=1, fills_per_wallet=60, rate_scale=0, paging={"clob_match_early_s": early_s})
    seed_mapping(emu)
    funder = emu.server.state.clob.funder
    served = sum(expected_fills(emu, [funder]).values())
    trade_sides = len({(f.wallet, f.tx, f.asset, f.side) for f in emu.dataset.visible_fills(funder)})
    for source in ("data_api_v2", "clob"):
        assert run_dag("clob_backfill", {"lookback": "all", "wallets": [funder], "source": source}).state == DagRunState.SUCCESS

    raw, final = physical_and_final_counts()
    before = checksums()
    capfd.readouterr()
    dr = run_dag("clob_promotion", PROMOTE)
    log = capfd.readouterr().out
    if not early_s:  # described alike: the CLOB's rows replaced the Data API's, one row per fill
        assert final == served and raw == 2 * served  # merges stopped: both versions still on disk
        assert dr.state == DagRunState.SUCCESS, task_states(dr)
        return
    assert final == raw == 2 * served  # two ids per fill: the double this check exists for
    assert dr.state == DagRunState.FAILED
    states = task_states(dr)
    assert states["check_content_not_overcounted"] == "failed" and states["swap_tables"] == "upstream_failed", states
    assert f"described_differently_by_two_sources={trade_sides}" in log
    assert checksums() == before  # a refused promotion touches nothing
