"""The emulator's JSON-RPC endpoint and the polygon_rpc hook against it, over real HTTP."""

from __future__ import annotations

import json
import time
import urllib.request

import pytest
from chain_env import point_polygon_rpc, set_chain

from clob_pipeline.chain.decode import decode_log, wallet_topic
from clob_pipeline.chain.planner import LogRangePlanner
from clob_pipeline.fills.pagers import UnexpectedResponseError
from clob_pipeline.hooks.polygon_rpc import PolygonRpcHook, WrongChainError
from clob_pipeline.hooks.polymarket import PolymarketApiError

CUTOVER_S = 1_777_334_400


@pytest.fixture()
def rpc(emulator, monkeypatch):
    point_polygon_rpc(monkeypatch, emulator, rate_limit_shared=False, backoff_base_s=0.05)
    hook = PolygonRpcHook()
    yield hook
    hook.close()


def read_all(hook: PolygonRpcHook, wallet: str, lo: int, hi: int, initial: int = 2_000):
    config = hook.chain_config
    planner = LogRangePlanner(wallet, [(lo, hi)], lambda a, b: sorted(config.exchanges), sorted(config.layouts), initial, 10**9)
    fills = []
    while (request := planner.next_request()) is not None:
        body = hook.call_raw("eth_getLogs", request.params)
        if body.get("error"):
            planner.failed(request, body["error"])
            continue
        fills += [decode_log(log, config, wallet) for log in body["result"]]
        planner.done(request)
    return fills, planner


def test_every_fill_is_a_log_at_its_data_api_second_v1_before_the_cutover_v2_after(emulator, rpc):
    rpc.check_chain()
    finalized, finalized_ts, how = rpc.finalized()
    assert how == "finalized tag" and finalized_ts <= time.time()
    for wallet in emulator.dataset.wallets[:3]:
        served = emulator.dataset.visible_fills(wallet)
        fills, _ = read_all(rpc, wallet, 0, finalized, initial=10_000_000)
        assert sorted((f.tx_hash, f.block_ts, f.token_id, f.side) for f in fills) == sorted(
            (f.tx, f.ts, f.asset, f.side) for f in served
        )
        assert {f.era for f in fills if f.block_ts < CUTOVER_S} <= {"v1"}
        assert {f.era for f in fills if f.block_ts >= CUTOVER_S} == {"v2"}
        assert all(rpc.block_timestamp(f.block_number) == f.block_ts for f in fills[:5])
        assert len({(f.tx_hash, f.log_index) for f in fills}) == len(served)  # identical fills are separate logs


def test_provider_caps_answer_in_their_providers_words(emulator, rpc):
    wallet = emulator.dataset.wallets[0]
    finalized = rpc.finalized()[0]
    set_chain(emulator, range_cap=1_000)
    wide = {"fromBlock": hex(1), "toBlock": hex(5_000), "topics": [None, None, wallet_topic(wallet)]}
    error = rpc.call_raw("eth_getLogs", [wide])
    assert error["error"]["message"] == "eth_getLogs is limited to a 1,000 range"
    set_chain(emulator, result_cap=5)
    body = rpc.call_raw("eth_getLogs", [{"fromBlock": hex(0), "toBlock": hex(finalized)}])
    assert body["error"]["code"] == -32005 and "Try with this block range [0x0, 0x" in body["error"]["message"]
    suggested = int(body["error"]["message"].rsplit("0x", 1)[1].rstrip("]."), 16)
    ok = rpc.call_raw("eth_getLogs", [{"fromBlock": hex(0), "toBlock": hex(suggested)}])
    assert 0 < len(ok["result"]) <= 5  # the suggested range works
    more = rpc.call_raw("eth_getLogs", [{"fromBlock": hex(0), "toBlock": hex(suggested + 1)}])
    assert "error" in more  # and it is the widest that does


def test_reading_through_every_cap_gives_the_same_fills(emulator, rpc):
    wallet = emulator.dataset.wallets[1]
    truth = emulator.server.chain.wallet_fills(wallet)
    lo, hi = truth[0].block - 1_000, truth[-1].block + 1_000
    expected, _ = read_all(rpc, wallet, lo, hi, initial=10**8)
    assert len(expected) == len(truth)
    for settings in ({"range_cap": 200_000}, {"result_cap": 7}, {"result_cap": 7, "result_hint": False}):
        set_chain(emulator, **settings)
        got, planner = read_all(rpc, wallet, lo, hi, initial=10**8)
        assert got == expected and planner.limits > 0


@pytest.mark.parametrize("in_body", [False, True], ids=["http-429", "rate-error-in-a-200"])
def test_a_rate_limit_pauses_the_shared_budget_and_is_retried(emulator, monkeypatch, in_body):
    set_chain(emulator, rate_limit=2, rate_window_s=1, rate_limit_in_body=in_body)
    point_polygon_rpc(monkeypatch, emulator, rate_limit_shared=False, backoff_base_s=0.6, max_attempts=8)
    hook = PolygonRpcHook()
    answers = [hook.call("eth_chainId", []) for _ in range(3)]
    assert answers == ["0x89"] * 3  # the third waited for the window instead of failing
    assert hook.stats.responses_429 >= 1 and emulator.stats()["rpc:429"] >= 1


def test_no_finalized_tag_falls_back_to_head_minus_depth(emulator, rpc, monkeypatch):
    set_chain(emulator, finalized_tag=False)
    point_polygon_rpc(monkeypatch, emulator, finality_depth=40, rate_limit_shared=False)
    hook = PolygonRpcHook()
    block, ts, how = hook.finalized()
    head = int(hook.call("eth_blockNumber", []), 16)
    assert how.startswith("head") and head - 40 - 2 <= block <= head - 40 and ts == hook.block_timestamp(block)


def test_answers_that_are_no_answer_fail_before_anything_is_read(emulator, rpc):
    set_chain(emulator, empty_answers=True)
    with pytest.raises(UnexpectedResponseError, match="not a JSON-RPC answer"):
        rpc.call_raw("eth_getLogs", [{"fromBlock": "0x1", "toBlock": "0x2"}])


def test_the_provider_url_secrets_never_reach_an_error_or_a_log(monkeypatch, capfd):
    secret_url = "http://127.0.0.1:9/v3/SECRETKEY123?apikey=HIDDEN456"
    extra = {"max_attempts": 2, "backoff_base_s": 0, "rate_limit_shared": False}
    monkeypatch.setenv("AIRFLOW_CONN_POLYGON_RPC", json.dumps({"conn_type": "http", "host": secret_url, "extra": extra}))
    hook = PolygonRpcHook()
    capfd.readouterr()
    with pytest.raises(PolymarketApiError) as caught:
        hook.call("eth_chainId", [])
    logged = "".join(capfd.readouterr())
    assert "attempt 1/2 failed (ConnectionError" in logged  # the retry's warning was logged ...
    for secret in ("SECRETKEY123", "HIDDEN456"):
        assert secret not in str(caught.value) and secret not in logged  # ... without the key
    assert hook.safe_url == "http://127.0.0.1:9"


def test_another_chain_is_refused(emulator, monkeypatch, rpc):
    monkeypatch.setenv("CLOB_PIPELINE_CHAIN_CONFIG", json.dumps({"chain_id": 1}))
    with pytest.raises(WrongChainError, match="serves chain 137, not 1"):
        PolygonRpcHook().check_chain()


def test_gamma_markets_map_tokens_to_their_market(emulator):
    market = emulator.dataset.markets[3]
    url = f"{emulator.url}/markets?clob_token_ids={market.tokens[1]}&clob_token_ids=12345"
    with urllib.request.urlopen(url, timeout=10) as response:
        body = json.load(response)
    assert [(m["conditionId"], json.loads(m["clobTokenIds"])) for m in body] == [(market.condition_id, list(market.tokens))]


def test_reconciliation_faults_change_the_chain_not_the_data_api(emulator_factory):
    emu = emulator_factory(wallets=3, proxy_users=1, fills_per_wallet=60, rate_scale=0,
                           chain={"api_omits": {"0": 3}, "api_resizes": {"1": 2}, "api_merges": {"2": 2}})  # fmt: skip
    chain, wallets = emu.server.chain, emu.dataset.wallets
    served_counts = [len(emu.dataset.visible_fills(w)) for w in wallets]
    assert len(chain.wallet_fills(wallets[0])) == served_counts[0] + 3  # builds the chain and its fault record
    applied = chain.faults_applied
    assert len(applied[wallets[0]]["omitted"]) == 3
    served = {f.tx: f for f in emu.dataset.visible_fills(wallets[1])}
    resized = [f for f in chain.wallet_fills(wallets[1]) if f.tx in applied[wallets[1]]["resized"]]
    assert len(resized) == 2 and all(f.size == round(served[f.tx].size * 1e6) + 1_000_000 for f in resized)
    merged = applied[wallets[2]]["merged"]
    parts = [f for f in chain.wallet_fills(wallets[2]) if f.tx in merged]
    assert len(parts) == 4 and len({f.order_hash for f in parts}) == 2  # two fills of one order each
    assert len(chain.wallet_fills(wallets[2])) == served_counts[2] + 2  # the Data API still serves one row each
