"""clob_backfill through the Data API v2 with each of its faults switched on in the emulator, merges stopped.

Each case holds the table equal to the fills served, raw and FINAL, and a second run inserts nothing;
or the run fails loudly with only real fills stored; always within a bounded number of requests.
"""

from __future__ import annotations

import pytest
from airflow.sdk import DagRunState
from fills_truth import expected_fills, physical_and_final_counts, stored_fills
from paging_checks import (
    backfill_under_paging_fault,
    exact,
    inserted_nothing_again,
    load_tries,
    merges_stopped,
    parts_of_staging,
)

__all__ = ["merges_stopped"]  # the fixture, imported for pytest

V2 = "data_api_v2"
PAGE = 50


def served_pages(emu, wallets) -> int:
    return sum(len(emu.dataset.visible_fills(w)) for w in wallets) // PAGE + len(wallets)


@pytest.mark.parametrize(
    "paging",
    [
        {"v2_empty_pages": 3},
        {"v2_reject_cursor_at": 3},
        {"v2_reject_cursor_at": 1, "v2_reject_cursor_times": None},
        {"v2_ignore_cursor": True},
    ],
    ids=["empty-pages-with-has-more", "cursor-rejected-midway", "every-cursor-rejected", "cursor-ignored"],
)
def test_v2_faults_leave_exactly_the_served_fills(merges_stopped, emulator_factory, run_dag, paging, capfd):
    capfd.readouterr()
    emu, conf = backfill_under_paging_fault(run_dag, emulator_factory, paging, V2, page_size=PAGE)
    restarts = {"v2_reject_cursor_at": "restarts: cursor rejected x", "v2_ignore_cursor": "restarts: cursor ignored x1, window x"}
    if expected := next((line for key, line in restarts.items() if key in paging), None):
        out = capfd.readouterr()
        assert expected in out.out + out.err  # the wallet's closing line says why requests exceed pages
    assert emu.stats()["/v2/trades"] <= 2 * served_pages(emu, conf["wallets"]) + 10  # bounded: restarts, not loops
    assert any(k.startswith("paging:v2_") for k in emu.stats())  # the fault really happened
    inserted_nothing_again(run_dag, conf)


def test_an_ignored_cursor_inside_a_second_larger_than_a_page_fails_loudly_with_only_real_fills(
    merges_stopped, emulator_factory, run_dag, capfd
):
    emu = emulator_factory(
        wallets=1, proxy_users=0, fills_per_wallet=300, rate_scale=0, paging={"v2_ignore_cursor": True},
        burst_fills=3 * PAGE, burst_distinct=2, burst_ts=1_790_000_000 - 30 * 86_400, extra={"page_size": PAGE},
    )  # fmt: skip
    wallets = emu.dataset.wallets
    capfd.readouterr()
    dr = run_dag("clob_backfill", {"lookback": "all", "wallets": wallets, "source": V2})
    assert dr.state == DagRunState.FAILED and load_tries(dr) == [1]
    out = capfd.readouterr()
    assert "holds more fills than one /v2/trades page" in out.out + out.err
    stored, truth = stored_fills(), expected_fills(emu, wallets)
    assert stored and not stored - truth  # only real fills, each at most as often as served
    raw, final = physical_and_final_counts()
    assert raw == final == sum(stored.values())
    newest_missing = max(f[-1] for f in (truth - stored).elements())
    assert all(f[-1] > newest_missing for f in stored.elements())  # whole seconds above the failing one
    assert emu.stats()["/v2/trades"] <= served_pages(emu, wallets) + 10


@pytest.mark.parametrize("inclusive", [False, True], ids=["exclusive-anchor", "inclusive-anchor"])
def test_a_page_boundary_that_repeats_its_row_stores_no_phantom_and_keeps_a_burst_across_it(
    merges_stopped, emulator_factory, run_dag, inclusive, capfd
):
    """``v2_inclusive_anchor``: every cursor page starts with the previous page's last row again. Wallet 1 also
    holds a bot's burst of 20 identical fills in one second across the boundary after row 100 (98 with the
    fault): real fills that one read cannot tell from a repeated anchor. Its second is read again alone."""
    emu = emulator_factory(
        wallets=2, proxy_users=1, fills_per_wallet=400, rate_scale=0, paging={"v2_inclusive_anchor": inclusive},
        extra={"page_size": PAGE},
    )  # fmt: skip
    wallets = emu.dataset.wallets
    fills = emu.dataset.visible_fills(wallets[1])
    first = next(i for i in range(2 * PAGE - 15, 2 * PAGE - 3) if fills[i].ts != fills[i - 1].ts)  # a second's first row
    assert not {fills[first].ts - 1, fills[first].ts + 1} & {f.ts for f in fills}  # read alone, it fills no page
    emu.dataset.add_burst(wallets[1], 20, fills[first].ts, distinct=1)  # rows first..first+19: across 98 and 100
    capfd.readouterr()
    conf = {"lookback": "all", "wallets": wallets, "source": V2}
    assert run_dag("clob_backfill", conf).state == DagRunState.SUCCESS
    exact(emu, wallets)  # no phantom, no burst fill lost: raw and FINAL
    assert max(expected_fills(emu, wallets).values()) == 20 and parts_of_staging() > 1
    out = capfd.readouterr()
    lines = {w: next(line for line in (out.out + out.err).splitlines() if f"wallet {w}: table=" in line) for w in wallets}
    if inclusive:
        assert emu.stats()["paging:v2_inclusive_anchor"] > 0 and "page boundary repeated x" in lines[wallets[0]]
    else:
        assert "restarts: page boundary repeated x1" in lines[wallets[1]]  # the burst's boundary, read again
        assert "page boundary repeated" not in lines[wallets[0]]  # it costs requests only when boundary rows repeat
    assert emu.stats()["/v2/trades"] <= 2 * served_pages(emu, wallets) + 10
    inserted_nothing_again(run_dag, conf)


def test_fills_arriving_during_a_walk_are_stored_once_by_this_run_or_the_next(merges_stopped, emulator_factory, run_dag):
    emu = emulator_factory(
        wallets=2, proxy_users=1, fills_per_wallet=400, rate_scale=0, paging={"v2_arrive": 2, "v2_arrive_times": 6},
        extra={"page_size": PAGE},
    )  # fmt: skip
    wallets = emu.dataset.wallets
    before = expected_fills(emu, wallets)
    conf = {"lookback": "all", "wallets": wallets, "source": V2}
    assert run_dag("clob_backfill", conf).state == DagRunState.SUCCESS
    stored, truth = stored_fills(), expected_fills(emu, wallets)
    assert emu.stats()["paging:v2_arrived"] == 6 * 6  # newer and older than the anchor, 2 each, 6 pages
    assert before <= stored and not stored - truth  # everything that was there, only real fills
    assert stored - before  # the fills older than the anchor came in this walk
    assert physical_and_final_counts() == (sum(stored.values()),) * 2
    assert run_dag("clob_backfill", conf).state == DagRunState.SUCCESS  # the next walk reads the rest, once
    exact(emu, wallets)
    inserted_nothing_again(run_dag, conf)


def test_429_and_503_with_retry_after_leave_exactly_the_served_fills(merges_stopped, emulator_factory, run_dag):
    emu = emulator_factory(
        wallets=2, proxy_users=1, fills_per_wallet=300, rate_scale=0, extra={"page_size": PAGE, "backoff_base_s": 0.05}
    )
    wallets = emu.dataset.wallets
    emu.post(
        "/__emulator/faults",
        [
            {"path": "/v2/trades", "status": 429, "retry_after": 1, "after": 3, "count": 2},
            {"path": "/v2/trades", "status": 503, "retry_after": 1, "after": 8, "count": 2},
        ],
    )
    conf = {"lookback": "all", "wallets": wallets, "source": V2}
    dr = run_dag("clob_backfill", conf)
    assert dr.state == DagRunState.SUCCESS and load_tries(dr) == [1]  # the hook's own retries were enough
    assert emu.stats()["fault:status"] == 4
    exact(emu, wallets)
    inserted_nothing_again(run_dag, conf)
