"""The witness store on chDB: a batch read again after a crash adds no row; scanned ranges and their gaps."""

from __future__ import annotations

import threading

from conftest import ch_rows

from clob_pipeline.chain.decode import ChainFill
from clob_pipeline.chain.planner import gaps
from clob_pipeline.dag_parts import SCHEMA_FILES
from clob_pipeline.hooks.chain_source import ClickHouseWitness
from clob_pipeline.hooks.clickhouse import ClickHouseHook

WALLET = "0x" + "ab" * 20


def fill(block: int, index: int) -> ChainFill:
    return ChainFill(
        WALLET, "0x" + f"{block:064x}", index, block, 1_780_000_000 + block, "0x" + "e1" * 20, "v2", "0x" + "00" * 32,
        "0x" + "11" * 20, "maker", "BUY", "123", 1_000_000, 420_000, 420_000, 0,
    )  # fmt: skip


def test_a_batch_read_again_adds_no_row_and_ranges_record_what_is_stored(database):
    with ClickHouseHook() as ch:
        for name in SCHEMA_FILES:
            ch.run_sql_file(name, {"fills_table": "clob_fills_v2", "proxy_table": "pm_user_proxy_wallets_v2"})
        witness = ClickHouseWitness(ch, "cfg", "run-1", threading.RLock())
        batch = [fill(10, 0), fill(10, 1), fill(12, 0)]
        assert witness.save(WALLET, batch, 5, 20, 100, 200) == 3
        # the crash case: the range record was lost, the retry reads the batch again
        assert witness.save(WALLET, batch + [fill(25, 3)], 5, 30, 100, 300) == 1
        ranges = witness.scanned_ranges(WALLET)
    assert ranges == [(5, 30, 100, 300)]  # one record per range start, its newest end
    assert ch_rows("SELECT count() FROM {db:Identifier}.clob_chain_fills")[0][0] == 4  # raw: nothing twice
    assert gaps((1, 40), [(lo, hi) for lo, hi, _, _ in ranges]) == [(1, 4), (31, 40)]
