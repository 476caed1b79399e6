"""CLOB trades that arrive before their transaction hash (polymarket-api.md §1.5): held back, never stored
with an empty hash, counted in the wallet's closing line, and read again by later incremental runs until
the hash appears, however far the watermark has moved past them."""

from __future__ import annotations

import re
import time
from collections import Counter

import pytest
from airflow.sdk import DagRunState
from conftest import ch_rows
from fills_truth import Q6, expected_fills, ledger_and_table_counts, physical_and_final_counts, stored_fills
from paging_checks import merges_stopped
from seeding import seed_mapping

__all__ = ["merges_stopped"]  # the fixture, imported for pytest


def fill_keys(fills) -> Counter:
    from decimal import Decimal

    return Counter(
        (f.wallet, f.tx, f.asset, f.side, Decimal(repr(f.size)).quantize(Q6), Decimal(repr(f.price)).quantize(Q6), f.ts)
        for f in fills
    )


def unhashed_clob(emulator_factory, unsettled_as: str = "no_hash"):
    """Two mapped wallets; the CLOB key owner's (``funder``) fills 20 and 21, newest first, are served by the CLOB
    not final (``unsettled_as``: without a hash, MINED, or MINED in a transaction a reorg drops) until
    ``/__emulator/settle``."""
    emu = emulator_factory(
        wallets=2, proxy_users=1, fills_per_wallet=120, rate_scale=0, anchor_s=int(time.time()) - 300, history_days=10,
        paging={"clob_unhashed": 2, "clob_unhashed_skip": 20, "clob_unhashed_as": unsettled_as},
    )  # fmt: skip
    seed_mapping(emu)
    funder = emu.server.state.clob.funder
    return emu, funder, emu.dataset.visible_fills(funder)


@pytest.mark.parametrize("unsettled_as", ["no_hash", "mined", "reorged"])
def test_trades_not_final_are_held_back_and_loaded_once_they_settle(
    merges_stopped, emulator_factory, run_dag, capfd, unsettled_as
):
    """Raw and FINAL: a MINED trade is never written, so one re-mined under another hash leaves no row behind."""
    emu, funder, fills = unhashed_clob(emulator_factory, unsettled_as)
    held = fill_keys(fills[20:22])
    assert fills[0].ts - fills[21].ts > 3600  # far behind the newest fill: only the hold keeps them in the window
    conf = {"source": "clob", "overlap_minutes": 1}

    capfd.readouterr()
    assert run_dag("clob_incremental", conf).state == DagRunState.SUCCESS
    out = capfd.readouterr().out
    assert emu.stats()["clob:unhashed_served"] >= 2
    assert stored_fills() == expected_fills(emu, [funder]) - held  # every settled fill, none of the held ones
    assert ch_rows("SELECT count() FROM {db:Identifier}.clob_fills_v2 WHERE transaction_hash = ''") == [(0,)]
    assert "held_back=2" in out and "held back from" in out  # the wallet's closing line
    raw, final = physical_and_final_counts()
    assert raw == final == sum((expected_fills(emu, [funder]) - held).values())  # nothing of the held trades written

    assert run_dag("clob_incremental", conf).state == DagRunState.SUCCESS  # still unsettled: still held
    assert stored_fills() == expected_fills(emu, [funder]) - held

    emu.post("/__emulator/settle", {})
    capfd.readouterr()
    assert run_dag("clob_incremental", conf).state == DagRunState.SUCCESS
    assert stored_fills() == expected_fills(emu, [funder])  # read again although the watermark is far past them
    assert physical_and_final_counts() == (len(fills), len(fills))  # raw too: no row of a reorged-away hash
    assert "held back from" not in capfd.readouterr().out  # the hold is cleared
    ledger, table = ledger_and_table_counts()
    assert {w: n for w, n in ledger.items() if n} == table  # the other wallet has no CLOB fills: 0 recorded


def hold_from_ms(wallet: str) -> int:
    [(ms,)] = ch_rows(
        "SELECT toUnixTimestamp64Milli(argMax(hold_from_ts, updated_at)) FROM {db:Identifier}.wallet_sync_state "
        "WHERE wallet = {w:String}",
        {"w": wallet},
    )
    return ms


def test_a_data_api_load_whose_window_covers_a_clob_hold_clears_it(database, emulator_factory, run_dag, capfd):
    """A CLOB run holds two unhashed trades back; the wallet then loads only through the Data API v2, which
    serves settled fills only: its completed load over a window covering the hold stores those trades' fills
    (settled since) and clears the hold, so the next run's window starts from the watermark again."""
    emu, funder, fills = unhashed_clob(emulator_factory)
    assert run_dag("clob_incremental", {"source": "clob", "overlap_minutes": 1}).state == DagRunState.SUCCESS
    hold_s = min(f.ts for f in fills[20:22])
    assert hold_from_ms(funder) == hold_s * 1000  # held by the CLOB load

    capfd.readouterr()
    conf = {"source": "data_api_v2", "overlap_minutes": 1}
    assert run_dag("clob_incremental", conf).state == DagRunState.SUCCESS
    assert stored_fills() == expected_fills(emu, emu.dataset.wallets)  # the held trades came through the Data API
    assert hold_from_ms(funder) == 0 and "held back from" not in capfd.readouterr().out  # the hold is cleared

    capfd.readouterr()
    assert run_dag("clob_incremental", conf).state == DagRunState.SUCCESS
    line = next(x for x in capfd.readouterr().out.splitlines() if f"wallet {funder}: table=" in x)
    window_start = re.search(r" window=(\S+?)\.\.", line).group(1)
    assert window_start > time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(hold_s))  # from the watermark, not the hold
