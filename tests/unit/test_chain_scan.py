"""One wallet's scan loop with a fake provider and store: answers are checked before anything is kept,
ranges are recorded with their fills, gaps only are read."""

from __future__ import annotations

import copy

import pytest
from test_chain_decode import REAL_V2_MAKER

from clob_pipeline.chain.blocks import BlockClock
from clob_pipeline.chain.contracts import load_chain_config
from clob_pipeline.chain.decode import ForeignLogError
from clob_pipeline.chain.scan import scan_wallet

WALLET = "0xa253d75c2dfb2c6650291d5e8d54076d2fb40181"
BLOCK = 90_840_326  # REAL_V2_MAKER's block
CONFIG = load_chain_config()


class Provider:
    def __init__(self, logs_for) -> None:
        self.logs_for, self.asked = logs_for, []

    def call_raw(self, method, params):
        lo, hi = int(params[0]["fromBlock"], 16), int(params[0]["toBlock"], 16)
        self.asked.append((lo, hi))
        return {"jsonrpc": "2.0", "id": 1, "result": self.logs_for(lo, hi)}


class Store:
    def __init__(self, covered=()) -> None:
        self.covered, self.saved = list(covered), []

    def scanned_ranges(self, wallet):
        return self.covered

    def save(self, wallet, fills, lo, hi, lo_ts, hi_ts):
        self.saved.append((lo, hi, [(f.tx_hash, f.log_index) for f in fills]))
        return len(fills)


def scan(provider, store, want=(BLOCK - 5_000, BLOCK + 5_000)):
    clock = BlockClock(lambda b: 1_784_965_486 + 2 * (b - BLOCK))  # consistent with the real log's timestamp
    addresses = sorted(CONFIG.exchanges)
    return scan_wallet(provider, store, clock, CONFIG, lambda a, b: addresses, WALLET, want, 1_000, 1_000)


def real_log_in(lo, hi):
    return [copy.deepcopy(REAL_V2_MAKER)] if lo <= BLOCK <= hi else []


def test_the_scan_stores_the_fill_and_records_the_whole_range_once():
    store = Store()
    result = scan(Provider(real_log_in), store)
    assert result.fills == result.stored == 1
    assert store.saved[-1][:2] == (BLOCK - 5_000, BLOCK + 5_000) and sum(len(s[2]) for s in store.saved) == 1


def test_only_the_gaps_of_the_scanned_ranges_are_read():
    provider = Provider(real_log_in)
    store = Store(covered=[(BLOCK - 5_000, BLOCK + 1_000, 0, 0)])
    scan(provider, store)
    assert provider.asked and min(lo for lo, _ in provider.asked) == BLOCK + 1_001
    assert store.saved[-1][0] == BLOCK - 5_000  # the record of the stored range grows


@pytest.mark.parametrize(
    ("logs_for", "message"),
    [
        (lambda lo, hi: [{**copy.deepcopy(REAL_V2_MAKER), "blockNumber": hex(hi + 10)}] if lo <= BLOCK <= hi else [], "outside"),
        (lambda lo, hi: real_log_in(lo, hi) * 2, "twice in one answer"),
    ],
    ids=["outside-the-range", "duplicate"],
)
def test_an_answer_that_is_not_what_was_asked_stores_nothing(logs_for, message):
    store = Store()
    with pytest.raises(ForeignLogError, match=message):
        scan(Provider(logs_for), store)
    assert all(not fills for _, _, fills in store.saved)  # earlier empty ranges only
