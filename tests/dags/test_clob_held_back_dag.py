"""CLOB trades that arrive before their transaction hash (polymarket-api.md §1.5): held back, never stored
with an empty hash, counted in the wallet's closing line, and read again by later incremental runs until
the hash appears, however far the watermark has moved past them."""

from __future__ import annotations

import time
from collections import Counter

from airflow.sdk import DagRunState
from conftest import ch_rows
from fills_truth import Q6, expected_fills, ledger_and_table_counts, stored_fills
from seeding import seed_mapping


def fill_keys(fills) -> Counter:
    from decimal import Decimal

    return Counter(
        (f.wallet, f.tx, f.asset, f.side, Decimal(repr(f.size)).quantize(Q6), Decimal(repr(f.price)).quantize(Q6), f.ts)
        for f in fills
    )


def test_trades_without_a_hash_are_held_back_and_loaded_once_they_settle(database, emulator_factory, run_dag, capfd):
    emu = emulator_factory(
        wallets=2, proxy_users=1, fills_per_wallet=120, rate_scale=0, anchor_s=int(time.time()) - 300, history_days=10,
        paging={"clob_unhashed": 2, "clob_unhashed_skip": 20},
    )  # fmt: skip
    seed_mapping(emu)
    funder = emu.server.state.clob.funder
    fills = emu.dataset.visible_fills(funder)
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

    assert run_dag("clob_incremental", conf).state == DagRunState.SUCCESS  # still unsettled: still held
    assert stored_fills() == expected_fills(emu, [funder]) - held

    emu.post("/__emulator/settle", {})
    capfd.readouterr()
    assert run_dag("clob_incremental", conf).state == DagRunState.SUCCESS
    assert stored_fills() == expected_fills(emu, [funder])  # read again although the watermark is far past them
    assert "held back from" not in capfd.readouterr().out  # the hold is cleared
    ledger, table = ledger_and_table_counts()
    assert {w: n for w, n in ledger.items() if n} == table  # the other wallet has no CLOB fills: 0 recorded
