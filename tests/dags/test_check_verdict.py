"""A failing check logs its verdict first, then short offending rows, and its exception repeats the
verdict; the offending rows of check_wallets_with_fills are the tracked wallets without fills."""

from __future__ import annotations

import time

from airflow.sdk import DagRunState
from seeding import seed_mapping, task_states

from clob_pipeline.operators.clickhouse_check import MAX_VALUE_CHARS, short_row


def test_wallets_with_fills_verdict_first_then_the_wallets_that_have_none(database, emulator_factory, run_dag, capfd):
    emu = emulator_factory(
        wallets=4, proxy_users=3, fills_per_wallet=20, anchor_s=int(time.time()) - 600, history_days=10, rate_scale=0
    )
    seed_mapping(emu)
    loaded, missing = emu.dataset.wallets[:3], emu.dataset.wallets[3]
    assert run_dag("clob_backfill", {"lookback": "all", "wallets": loaded}).state == DagRunState.SUCCESS
    capfd.readouterr()

    dr = run_dag("clob_promotion", {"approval": "auto", "min_wallets": 4, "min_proxy_mappings": 0})

    assert dr.state == DagRunState.FAILED and task_states(dr)["check_wallets_with_fills"] == "failed"
    out = "".join(capfd.readouterr())
    verdict = "check check_wallets_with_fills FAILED on"
    lines = [line for line in out.splitlines() if verdict in line or "offending row:" in line]
    assert lines and verdict in lines[0], lines[:3]  # the verdict comes before its rows
    assert "wallets_with_fills=3 min_wallets=4" in lines[0]
    rows = [line for line in lines if "offending row:" in line]
    assert len(rows) == 1 and f"wallet_without_fills={missing}" in rows[0]
    assert not any(w in row for w in loaded for row in rows)  # not the wallets that have fills
    assert sum(verdict in line for line in out.splitlines()) >= 2  # the exception repeats it


def test_short_row_cuts_long_values():
    row = short_row({"fill_id": "x" * 200, "wallet": "0x" + "ab" * 20, "n": 3})
    assert f"fill_id={'x' * (MAX_VALUE_CHARS - 1)}…" in row and "wallet=0x" + "ab" * 20 in row and row.endswith("n=3")
