"""Which wallets a reconciliation checks by default, on chDB: every wallet loaded into the table, not
only the ones the API served a fill for (a tracked wallet the API answered with nothing is exactly the
one whose chain fills must be named)."""

from __future__ import annotations

import threading
import time

from clob_pipeline.chain.decode import ChainFill
from clob_pipeline.dag_parts import SCHEMA_FILES
from clob_pipeline.hooks.chain_source import ClickHouseWitness
from clob_pipeline.hooks.clickhouse import ClickHouseHook
from clob_pipeline.operators.chain_reconcile import run_reconciliation
from clob_pipeline.reconcile.verdict import summarize

SERVED = "0x" + "aa" * 20  # the API served its fill
EMPTY = "0x" + "bb" * 20  # loaded, the API served nothing; the chain has one fill
TABLE = "clob_fills_v2"
DAY_S = 86_400


def chain_fill(wallet: str, ts: int, index: int) -> ChainFill:
    return ChainFill(
        wallet, "0x" + f"{ts:060x}{index:04x}", index, ts, ts, "0xe111180000d2663c0091e4f400237545b87b996b", "v2",
        "0x" + "00" * 32, "0x" + "11" * 20, "maker", "BUY", "123", 10_000_000, 4_200_000, 420_000, 0,
    )  # fmt: skip


def test_a_loaded_wallet_without_api_fills_is_reconciled_and_its_chain_fills_named(database):
    day = (int(time.time()) // DAY_S - 3) * DAY_S
    served, missed = chain_fill(SERVED, day + 3_600, 1), chain_fill(EMPTY, day + 7_200, 2)
    with ClickHouseHook() as ch:
        for name in SCHEMA_FILES:
            ch.run_sql_file(name, {"fills_table": TABLE, "proxy_table": "pm_user_proxy_wallets_v2"})
        uuid = str(ch.query_file("promotion/table_uuids.sql", {"names": [TABLE]})[0][-1])
        ClickHouseWitness(ch, "cfg", "run-1", threading.RLock()).save(SERVED, [served], 1, 2, 1, 2)
        ClickHouseWitness(ch, "cfg", "run-1", threading.RLock()).save(EMPTY, [missed], 1, 2, 1, 2)
        ch.query_rows(
            "INSERT INTO {db:Identifier}.{t:Identifier} (fill_id, source, proxy_wallet, asset, side, size, price, timestamp, "
            "transaction_hash, ingested_at) VALUES ('f1', 'data_api', {w:String}, '123', 'BUY', 10, 0.42, "
            "fromUnixTimestamp64Milli({ms:Int64}, 'UTC'), {tx:String}, now64(3))",
            {"t": TABLE, "w": SERVED, "ms": served.block_ts * 1000, "tx": served.tx_hash},
        )
        for wallet, total in ((SERVED, 1), (EMPTY, 0)):  # both loaded by the same run
            ch.run_sql_file(
                "state/write_sync_state.sql",
                {"wallet": wallet, "source": "data_api", "table_uuid": uuid, "fills_table": TABLE,
                 "last_fill_ms": served.block_ts * 1000 if total else 0, "fills_total": total, "run_id": "r",
                 "hold_from_ms": 0},
            )  # fmt: skip
        wallets = [w for (w,) in ch.query_file("reconcile/table_wallets.sql", {"fills_table": TABLE})]
        assert wallets == [SERVED, EMPTY]
        rows = run_reconciliation(ch, "run-1", TABLE, wallets, day - DAY_S, day + DAY_S)
    verdict = summarize(rows, wallets, 0)
    assert [w.wallet for w in verdict.blocking] == [EMPTY]
    assert verdict.blocking[0].chain_only_tx == [missed.tx_hash]


def test_a_trade_matched_before_midnight_and_mined_after_is_one_trade_at_both_window_edges(database):
    """CLOB rows carry ``match_time`` (shared/polymarket-api.md §1.4), the chain the block time (§6), a few
    seconds later: a trade matched just before a window edge and mined just after it is still one trade."""
    end = (int(time.time()) // DAY_S - 2) * DAY_S
    start = end - DAY_S
    at_start, at_end = chain_fill(SERVED, start + 2, 1), chain_fill(SERVED, end + 2, 2)
    with ClickHouseHook() as ch:
        for name in SCHEMA_FILES:
            ch.run_sql_file(name, {"fills_table": TABLE, "proxy_table": "pm_user_proxy_wallets_v2"})
        ClickHouseWitness(ch, "cfg", "run-1", threading.RLock()).save(SERVED, [at_start, at_end], 1, 2, 1, 2)
        for n, f in enumerate((at_start, at_end)):  # matched 4 s before it was mined
            ch.query_rows(
                "INSERT INTO {db:Identifier}.{t:Identifier} (fill_id, source, proxy_wallet, asset, side, size, price, "
                "timestamp, transaction_hash, ingested_at) VALUES ({id:String}, 'clob', {w:String}, '123', 'BUY', 10, 0.42, "
                "fromUnixTimestamp64Milli({ms:Int64}, 'UTC'), {tx:String}, now64(3))",
                {"t": TABLE, "id": f"f{n}", "w": SERVED, "ms": (f.block_ts - 4) * 1000, "tx": f.tx_hash},
            )
        rows = run_reconciliation(ch, "run-1", TABLE, [SERVED], start, end)
    verdict = summarize(rows, [SERVED], 0)
    assert verdict.blocking == []
    assert [(str(r["day"]), r["matched"], r["api_only_rows"], r["chain_only_fills"]) for r in rows] == [
        (time.strftime("%Y-%m-%d", time.gmtime(start)), 1, 0, 0)
    ]
