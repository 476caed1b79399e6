"""source=chain's pager, normaliser and the storage rule (pure)."""

from __future__ import annotations

import pytest

from clob_pipeline.fills.chain_pager import ChainFillNormalizer, ChainWitnessPager
from clob_pipeline.fills.normalize import MalformedFillError
from clob_pipeline.fills.source_rule import family, mixed_wallets

WALLET = "0x" + "ab" * 20


def row(ts: int, log_index: int, size: int = 1_000_000, tx: str = "0x" + "11" * 32, role: str = "maker") -> dict:
    return {
        "tx_hash": tx, "log_index": log_index, "timestamp_ms": ts * 1000, "token_id": "123", "condition_id": "0xc0",
        "outcome": "Yes", "outcome_index": 0, "side": "BUY", "size_micro": size, "price_micro": 420_000, "role": role,
        "order_hash": "0x" + "22" * 32,
    }  # fmt: skip


def test_the_pager_scans_then_pages_the_window_newest_first_up_to_the_finalized_second():
    pager = ChainWitnessPager(WALLET, start_s=100, upper_s=1_000, page_size=2)
    assert pager.next_request().endpoint == "chain/scan"
    fed = pager.feed({"finalized_s": 900, "fills": 3, "stored": 3})
    assert fed.rows == [] and pager.upper_s == 900  # seconds not final yet are not handed over
    request = pager.next_request()
    assert request.endpoint == "chain/fills" and request.params["upper_s"] == 900
    fed = pager.feed({"rows": [row(800, 0), row(800, 1), row(700, 2)]})  # WITH TIES: 800 whole, and 700
    assert len(fed.rows) == 3 and fed.resume == 699 and pager.next_request().params["upper_s"] == 699
    fed = pager.feed({"rows": [row(300, 0)]})  # a short page is the end
    assert fed.resume == 99 and pager.next_request() is None


def test_a_window_after_the_finalized_block_reads_nothing():
    pager = ChainWitnessPager(WALLET, start_s=1_000, upper_s=2_000, page_size=10)
    pager.feed({"finalized_s": 900})
    assert pager.next_request() is None


def test_chain_fills_keep_their_transaction_and_log_index_as_identity():
    normalizer = ChainFillNormalizer(WALLET, WALLET)
    table = normalizer.page_table([row(800, 3), row(800, 4), row(800, 5, size=2_000_000, role="taker")])
    assert table["fill_id"].to_pylist() == [f"{'0x' + '11' * 32}:{i}" for i in (3, 4, 5)]
    assert table["copies"].to_pylist() == [2, 2, 1]  # two equal contents in that second
    assert table["source"].to_pylist() == ["chain"] * 3
    assert table["maker_order_id"].to_pylist()[2] == "" and table["trader_side"].to_pylist() == ["MAKER", "MAKER", "TAKER"]
    with pytest.raises(MalformedFillError, match="condition_id"):
        normalizer.page_table([{**row(1, 1), "condition_id": None}])


def test_the_storage_rule_names_wallets_holding_the_other_family():
    stored = {"0xa": ["data_api"], "0xb": ["chain"], "0xc": ["clob", "data_api"]}
    assert mixed_wallets("chain", stored) == {"0xa": ["data_api"], "0xc": ["clob", "data_api"]}
    assert mixed_wallets("data_api", stored) == {"0xb": ["chain"]}
    assert mixed_wallets("clob", {"0xc": ["data_api"]}) == {}  # API sources share one identity
    assert {family(s) for s in ("data_api", "data_api_v2", "clob")} == {"api"} and family("chain") == "chain"
