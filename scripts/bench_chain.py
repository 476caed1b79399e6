"""Chain benches of ``make bench`` (issue #20); they print numbers and assert nothing.

1. ``bench_chain_backfill``: ``airflow dags test clob_backfill`` with ``source=chain`` over 100 wallets
   and a 90-day lookback, against the emulator's JSON-RPC at 100 ms latency with a provider budget
   of ``RPC_BUDGET`` requests per 10 s (the emulator answers 429 beyond it) and the polygon_rpc
   connection configured with the same budget. No Data API connection at all (Option B). Requests,
   429s, the fetch span and the busiest 10 s window come from the emulator's stats, polled every 0.1 s.
   Goals: >= 0.8 of the budget, 0 responses 429, peak RSS of the DAG process < 1 GB.
2. ``bench_reconcile``: 1 M witness rows and the matching API fills (1 in 3,000 left out, 1 in 3,000
   resized) built by ClickHouse (``include/sql/bench/reconcile_fixture.sql``) in this process on chDB;
   the time of ``reconcile/compute.sql`` plus reading the run's rows. Goals: < 30 s, peak RSS of this
   process < 1 GB.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time

from bench import BENCH, _fresh_env, _run_dag, _StatsSampler, _vm_hwm_mb
from local_env import emulator, emulator_get, prepare_airflow

RPC_BUDGET, RPC_WINDOW_S, RPC_LATENCY_MS = 500, 10.0, 100


def bench_chain_backfill(wallets: int, days: int) -> None:
    anchor = int(time.time()) // 3600 * 3600 - 3600
    opts = {
        "wallets": wallets, "fills_per_wallet": 200, "late_fraction": 0, "rate_scale": 0, "anchor": anchor,
        "latency_ms": RPC_LATENCY_MS, "chain": json.dumps({"rate_limit": RPC_BUDGET}),
    }  # fmt: skip
    with emulator(BENCH / "emu-chain", **opts) as url:
        env = _fresh_env("chain", url)
        env.pop("AIRFLOW_CONN_POLYMARKET_DATA_API", None)  # Option B: no Data API at all
        rpc = {"rate_limit_requests": RPC_BUDGET, "rate_limit_period_s": RPC_WINDOW_S, "max_in_flight": 16}
        env["AIRFLOW_CONN_POLYGON_RPC"] = json.dumps({"conn_type": "http", "host": f"{url}/rpc", "extra": rpc})
        rate_dir = BENCH / "rate-chain"
        shutil.rmtree(rate_dir, ignore_errors=True)
        env["CLOB_PIPELINE_RATE_LIMIT_DIR"] = str(rate_dir)
        prepare_airflow(env)
        wallet_list = [u["proxy_wallet"] for u in emulator_get(url, "/__emulator/dataset")["users"]]
        log = BENCH / "chain-backfill.log"
        conf = {"lookback": f"{days}d", "wallets": wallet_list, "source": "chain"}
        with _StatsSampler(url, keys=("rpc", "rpc:429")) as sampler:
            seconds, rss, code = _run_dag(env, conf, "clob_backfill", log)
        stats = emulator_get(url, "/__emulator/stats")
    numbers = sampler.numbers()
    use = numbers["requests"] / numbers["span_s"] / (RPC_BUDGET / RPC_WINDOW_S) if numbers["span_s"] else 0.0
    print(
        f"[chain] clob_backfill source=chain, {wallets} wallets, lookback {days}d, {RPC_LATENCY_MS} ms latency, provider "
        f"budget {RPC_BUDGET}/{RPC_WINDOW_S:g}s, no Data API connection: exit {code}, run {seconds:.1f}s; "
        f"{numbers['requests']} JSON-RPC requests ({stats.get('rpc:eth_getLogs', 0)} eth_getLogs, "
        f"{stats.get('rpc:eth_getBlockByNumber', 0)} headers) over a span of {numbers['span_s']:.1f}s = {use:.2f} of the "
        f"budget (goal >= 0.8); busiest 10 s window {numbers['busiest']}/{RPC_BUDGET}; {numbers['429']} responses 429 "
        f"(goal 0); peak RSS {rss} MB (goal < 1024)",
        flush=True,
    )


def bench_reconcile(n: int, wallets: int = 1_000, days: int = 90) -> None:
    """Build the data in this process, then reconcile in a fresh one (as a task opens the engine) and
    report its time and peak RSS."""
    from clob_pipeline.dag_parts import SCHEMA_FILES
    from clob_pipeline.hooks.clickhouse import ClickHouseHook

    path = BENCH / "chdb-reconcile"
    shutil.rmtree(path, ignore_errors=True)
    conn = json.dumps({"conn_type": "clickhouse", "schema": "bench", "extra": {"chdb_path": str(path)}})
    os.environ["AIRFLOW_CONN_CLICKHOUSE_DEFAULT"] = conn
    end_day = int(time.time()) // 86_400 * 86_400
    start = end_day - days * 86_400
    built = time.monotonic()
    with ClickHouseHook() as ch:
        for name in SCHEMA_FILES:
            ch.run_sql_file(name, {"fills_table": "clob_fills_v2", "proxy_table": "pm_user_proxy_wallets_v2"})
        ch.run_sql_file("bench/reconcile_fixture.sql", {"n": n, "wallets": wallets, "start_s": start, "end_s": end_day})
        planted = ch.query_rows(
            "SELECT countIf(cityHash64(tx_hash) % 3000 = 0), countIf(cityHash64(tx_hash) % 3000 = 1) "
            "FROM {db:Identifier}.clob_chain_fills"
        )[0]
    built_s = time.monotonic() - built
    run = subprocess.run(
        [sys.executable, __file__, "reconcile", str(start), str(end_day)],
        env={**os.environ, "AIRFLOW_CONN_CLICKHOUSE_DEFAULT": conn},
        capture_output=True,
        text=True,
    )
    if run.returncode != 0:
        print(f"[reconcile] the reconcile process failed: {run.stderr[-2000:]}", flush=True)
        return
    result = json.loads(run.stdout.strip().splitlines()[-1])
    print(
        f"[reconcile] {n:,} chain fills vs {n - planted[0]:,} API fills over {wallets} wallets x {days} days on chDB "
        f"(built by ClickHouse in {built_s:.1f}s): {result['seconds']:.1f}s (goal < 30 s) for compute.sql and reading "
        f"the {result['rows']:,} wallet-day rows; found {result['chain_only']} missing (planted {planted[0]}) and "
        f"{result['mismatched']} resized (planted {planted[1]}); peak RSS of the reconciling process {result['rss_mb']} MB "
        "(goal < 1024)",
        flush=True,
    )


def _reconcile_in_this_process(start: int, end_day: int) -> None:
    """The measured part of ``bench_reconcile``: one reconciliation of every wallet, result as JSON."""
    from clob_pipeline.hooks.clickhouse import ClickHouseHook
    from clob_pipeline.operators.chain_reconcile import run_reconciliation

    started = time.monotonic()
    with ClickHouseHook() as ch:
        wallet_list = [w for (w,) in ch.query_file("reconcile/table_wallets.sql", {"fills_table": "clob_fills_v2"})]
        rows = run_reconciliation(ch, "bench", "clob_fills_v2", wallet_list, start, end_day)
    result = {
        "seconds": time.monotonic() - started,
        "rows": len(rows),
        "chain_only": sum(r["chain_only_fills"] for r in rows),
        "mismatched": sum(r["mismatched"] for r in rows),
        "rss_mb": _vm_hwm_mb(os.getpid()),
    }
    print(json.dumps(result), flush=True)


if __name__ == "__main__" and sys.argv[1:2] == ["reconcile"]:
    _reconcile_in_this_process(int(sys.argv[2]), int(sys.argv[3]))
