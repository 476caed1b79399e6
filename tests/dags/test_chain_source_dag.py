"""source=chain through clob_backfill / clob_incremental (dag.test) against the emulator's JSON-RPC,
with merges stopped: the fills table and the witness equal the chain's truth, raw and FINAL, under
every provider cap and 429; a provider that lies fails the run loudly with only real fills stored;
chain and API fills of one wallet never share a table."""

from __future__ import annotations

import time

import pytest
from airflow.sdk import DagRunState
from chain_env import (
    NARROW_ERAS,
    chain_truth,
    point_polygon_rpc,
    set_chain,
    stored_chain_fills,
    stored_witness,
    witness_raw_and_final,
    witness_truth,
)
from conftest import ch_rows
from fills_truth import expected_fills, physical_and_final_counts, stored_fills
from paging_checks import stop_merges
from seeding import seed_mapping

# Eras start 210 days before the data set's anchor, so "all history" is ~14 M emulated blocks, not 64 M.
RPC_EXTRA = {"chain_config": NARROW_ERAS, "logs_initial_span": 200_000, "logs_max_span": 20_000_000, "backoff_base_s": 0.2}


@pytest.fixture()
def merges_stopped(database):
    stop_merges("clob_fills_v2", "clob_chain_fills")
    return database


@pytest.fixture()
def chain_emulator(emulator_factory, monkeypatch):
    def start(rpc_extra: dict | None = None, **kwargs):
        kwargs = {"wallets": 2, "proxy_users": 1, "fills_per_wallet": 120, "rate_scale": 0, **kwargs}
        emu = emulator_factory(**kwargs)
        point_polygon_rpc(monkeypatch, emu, **{**RPC_EXTRA, **(rpc_extra or {})})
        return emu

    return start


def exact(emu, wallets) -> None:
    truth = chain_truth(emu, wallets)
    assert stored_chain_fills() == truth
    assert physical_and_final_counts() == (sum(truth.values()),) * 2
    assert stored_witness() == witness_truth(emu, wallets)
    assert witness_raw_and_final() == (sum(truth.values()),) * 2


def backfill(run_dag, wallets, **conf):
    return run_dag("clob_backfill", {"lookback": "all", "wallets": wallets, "source": "chain", **conf})


def test_chain_only_backfill_equals_the_chains_truth_and_a_rerun_reads_nothing_again(merges_stopped, chain_emulator, run_dag):
    emu = chain_emulator(burst_fills=12, burst_distinct=2)
    wallets = emu.dataset.wallets
    assert backfill(run_dag, wallets).state == DagRunState.SUCCESS
    exact(emu, wallets)
    truth = chain_truth(emu, wallets)
    assert max(truth.values()) == 1 and len({k[2] for k in truth}) < sum(truth.values())  # one tx, several logs
    fees = ch_rows("SELECT countIf(fee > 0), countIf(role = 'taker') FROM {db:Identifier}.clob_chain_fills")[0]
    assert fees[0] == fees[1] > 0  # taker fills' fees are kept in the witness
    sources = ch_rows("SELECT DISTINCT source FROM {db:Identifier}.clob_fills_v2")
    assert sources == [("chain",)]
    before = emu.stats().get("rpc:eth_getLogs", 0)
    assert backfill(run_dag, wallets).state == DagRunState.SUCCESS
    exact(emu, wallets)  # nothing twice, raw or FINAL
    assert emu.stats().get("rpc:eth_getLogs", 0) - before <= 2 * len(wallets)  # only blocks finalized since
    ranges = ch_rows("SELECT wallet, count(), min(lo_block) FROM {db:Identifier}.clob_chain_scans FINAL GROUP BY wallet")
    assert len(ranges) == len(wallets)


@pytest.mark.parametrize(
    "settings",
    [
        {"range_cap": 700_000},
        {"range_cap": 700_000, "range_style": "publicnode"},
        {"result_cap": 15},
        {"result_cap": 15, "result_hint": False},
        {"rate_limit": 10, "rate_window_s": 1},
        {"rate_limit": 10, "rate_window_s": 1, "rate_limit_in_body": True},
        {"finalized_tag": False, "log_timestamps": False},
    ],
    ids=["range-quicknode", "range-publicnode", "results-suggested", "results-halve", "429", "429-in-body", "no-tags"],
)
def test_each_provider_limit_leaves_the_tables_exact(merges_stopped, chain_emulator, run_dag, settings):
    # a budget above the provider's, so it answers 429; without Retry-After the backoff outlasts its 10 s window
    backoff = 0.5 if settings.get("rate_limit_in_body") else 0.2
    fills = 40 if "finalized_tag" in settings else 120  # without log timestamps every fill's block is a header lookup
    rpc_extra = {"rate_limit_requests": 100, "rate_limit_period_s": 1, "rate_limit_shared": False, "backoff_base_s": backoff}
    emu = chain_emulator(rpc_extra=rpc_extra, fills_per_wallet=fills)
    set_chain(emu, **settings)
    wallets = emu.dataset.wallets
    assert backfill(run_dag, wallets).state == DagRunState.SUCCESS
    stats = emu.stats()
    refused = stats.get("rpc:range_refused", 0) + stats.get("rpc:results_refused", 0) + stats.get("rpc:429", 0)
    assert refused > 0 or "finalized_tag" in settings  # the limit really was hit
    if "finalized_tag" in settings:
        finalized = emu.server.chain.head() - 256
        assert all(f.block <= finalized for w in wallets for f in emu.server.chain.wallet_fills(w))
    exact(emu, wallets)


def test_incremental_reads_only_new_finalized_blocks_and_stores_new_fills_once(merges_stopped, chain_emulator, run_dag):
    emu = chain_emulator()
    wallets = emu.dataset.wallets
    seed_mapping(emu)
    set_chain(emu, finality_depth=1_000)  # the backfill reads up to ~33 minutes ago
    assert backfill(run_dag, wallets).state == DagRunState.SUCCESS
    emu.post("/__emulator/new-fills", {"per_wallet": 2, "ts": int(time.time()) - 600})  # after that, final by now
    set_chain(emu, finality_depth=16)
    before = emu.stats().get("rpc:eth_getLogs", 0)
    assert run_dag("clob_incremental", {"source": "chain"}).state == DagRunState.SUCCESS
    exact(emu, wallets)
    assert emu.stats().get("rpc:eth_getLogs", 0) - before <= 2 * len(wallets)  # from the last finalized block on
    spans = ch_rows(
        "SELECT wallet, groupArray((lo_block, hi_block)) FROM "
        "(SELECT * FROM {db:Identifier}.clob_chain_scans FINAL ORDER BY lo_block) GROUP BY wallet"
    )
    for _, ranges in spans:
        assert all(b[0] == a[1] + 1 for a, b in zip(ranges, ranges[1:]))  # contiguous: nothing skipped


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"foreign_logs": True}, "when asked for wallet"),
        ({"same_error": True}, "refuses even one block"),
        ({"empty_answers": True}, "not a JSON-RPC answer"),
    ],
    ids=["another-wallets-log", "same-refusal-forever", "no-answer"],
)
def test_a_provider_that_lies_fails_the_run_loudly_with_only_real_fills_stored(
    merges_stopped, chain_emulator, run_dag, capfd, settings, message
):
    emu = chain_emulator(rpc_extra={"logs_initial_span": 2_000_000})
    set_chain(emu, **settings)
    wallets = emu.dataset.wallets
    capfd.readouterr()
    assert backfill(run_dag, wallets).state == DagRunState.FAILED
    out = capfd.readouterr()
    assert message in out.out + out.err
    truth = witness_truth(emu, wallets)
    stored = stored_witness()
    assert not stored - truth  # nothing foreign, nothing twice
    assert witness_raw_and_final()[0] == sum(stored.values())
    assert not stored_chain_fills()


def test_chain_and_api_fills_of_one_wallet_never_share_a_table(merges_stopped, chain_emulator, run_dag, capfd):
    emu = chain_emulator()
    wallets = emu.dataset.wallets
    assert run_dag("clob_backfill", {"lookback": "all", "wallets": wallets[:1]}).state == DagRunState.SUCCESS
    before = physical_and_final_counts()
    capfd.readouterr()
    dr = backfill(run_dag, wallets)
    assert dr.state == DagRunState.FAILED
    out = capfd.readouterr()
    assert f"{wallets[0]} has data_api fills" in out.out + out.err and "Nothing was written" in out.out + out.err
    assert physical_and_final_counts() == before  # refused before writing
    assert backfill(run_dag, wallets[1:]).state == DagRunState.SUCCESS  # another wallet may come from the chain
    capfd.readouterr()
    dr = run_dag("clob_backfill", {"lookback": "all", "wallets": wallets[1:]})
    assert dr.state == DagRunState.FAILED  # and then no API source may add to it
    out = capfd.readouterr()
    assert f"{wallets[1]} has chain fills" in out.out + out.err
    by_source = ch_rows("SELECT proxy_wallet, groupUniqArray(source) FROM {db:Identifier}.clob_fills_v2 GROUP BY proxy_wallet")
    assert dict(by_source) == {wallets[0]: ["data_api"], wallets[1]: ["chain"]}  # one family per wallet


def test_no_sequence_of_sources_stores_a_trade_twice_in_production(merges_stopped, chain_emulator, run_dag):
    """API load, promotion, chain incremental (refused), chain backfill into the emptied staging, promotion,
    API incremental (refused), chain incremental: after every step each wallet of every fills table holds one
    family, and each family's rows are exactly its source's truth."""
    emu = chain_emulator(fills_per_wallet=40)
    wallets = emu.dataset.wallets
    seed_mapping(emu)
    promote = {"min_wallets": 1, "min_proxy_mappings": 0, "reconcile_days": 400, "approval": "auto"}
    api_truth = expected_fills(emu, wallets)

    def invariant(table: str, family: str) -> None:
        both = ch_rows(
            "SELECT count() FROM (SELECT proxy_wallet FROM {db:Identifier}.{t:Identifier} GROUP BY proxy_wallet "
            "HAVING countIf(source = 'chain') > 0 AND countIf(source != 'chain') > 0)",
            {"t": table},
        )[0][0]
        assert both == 0
        if family == "chain":
            assert stored_chain_fills(table) == chain_truth(emu, wallets)
        else:
            assert stored_fills(table) == api_truth
        raw = ch_rows("SELECT count() FROM {db:Identifier}.{t:Identifier}", {"t": table})[0][0]
        assert raw == ch_rows("SELECT count() FROM {db:Identifier}.{t:Identifier} FINAL", {"t": table})[0][0]

    steps = [
        ("clob_backfill", {"lookback": "all", "source": "data_api"}, DagRunState.SUCCESS, ("clob_fills_v2", "api")),
        ("clob_promotion", promote, DagRunState.SUCCESS, ("clob_fills", "api")),
        ("clob_incremental", {"source": "chain"}, DagRunState.FAILED, ("clob_fills", "api")),  # refused
        ("clob_backfill", {"lookback": "all", "source": "chain"}, DagRunState.SUCCESS, ("clob_fills_v2", "chain")),
        ("clob_promotion", promote, DagRunState.SUCCESS, ("clob_fills", "chain")),
        ("clob_incremental", {"source": "data_api"}, DagRunState.FAILED, ("clob_fills", "chain")),  # refused
        ("clob_incremental", {"source": "chain"}, DagRunState.SUCCESS, ("clob_fills", "chain")),
    ]
    for dag_id, conf, state, (table, family) in steps:
        assert run_dag(dag_id, conf).state == state, (dag_id, conf)
        invariant(table, family)
    invariant("clob_fills_old", "api")  # the previous production, kept for rollback, is still one family
