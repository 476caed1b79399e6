"""``make demo``: discovery, backfill, promotion and health, end to end on the embedded default.

Starts the emulator, seeds ``wallet_metrics`` with the emulated users' volumes (plus one malformed
and one low-volume entry, which discovery must skip), then runs with ``airflow dags test`` on a
project-local AIRFLOW_HOME (SQLite) and chDB under ``.data/chdb``:
``pm_proxy_discovery`` -> ``clob_backfill`` (every mapped wallet, lookback 90d) -> ``clob_promotion``
-> ``clob_health``. The promotion approves automatically (Param ``approval: auto``; on-call approves
on the run's Required actions page). Prints the mappings, per-wallet fill counts of the staging set,
the promotion audit's verdict and report path, and the production tables after the promotion.
Re-running is safe and prints the same counts (the second promotion keeps the first production as
``*_old``).

Then (``chain_section``, issue #20) the mapped wallets are loaded from the emulator's chain as well,
into a database of their own with no Data API connection (``source=chain``), and ``clob_reconcile``
compares production with the chain and prints each wallet's verdict.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections import Counter

from local_env import BIN, ROOT, airflow_env, emulator, emulator_get, prepare_airflow, run

DATA = ROOT / ".data"
AIRFLOW_HOME = ROOT / ".airflow"
CHDB = DATA / "chdb"
ANCHOR_FILE = DATA / "emulator.anchor"
# The demo plays on-call: it approves the audited swap itself instead of waiting on the approval step.
APPROVE = {"approval": "auto"}
# The emulated world, the same for every emulator the demo starts (the chain section starts its own: the
# same data set, so the chain's blocks match what the promotion's reconciliation check cached).
EMULATED = {"two_wallet_users": 2}  # two users also trade from a second wallet


def main() -> int:
    DATA.mkdir(exist_ok=True)
    if not ANCHOR_FILE.exists():  # fixed once, so re-runs see the same emulated history
        ANCHOR_FILE.write_text(str(int(time.time()) // 86_400 * 86_400))
    anchor = int(ANCHOR_FILE.read_text())
    with emulator(DATA, anchor=anchor, **EMULATED) as url:
        env = airflow_env(AIRFLOW_HOME, CHDB, url)
        prepare_airflow(env)
        users = emulator_get(url, "/__emulator/dataset")["users"]
        os.environ.update(env)
        from clob_pipeline.hooks.clickhouse import ClickHouseHook

        eoas = [u["user_eoa"] for u in users] + ["0xnot-an-address", "0x" + "77" * 20]
        volumes = [25_000.0 + 1000 * i for i in range(len(users))] + [80_000.0, 50.0]
        with ClickHouseHook() as ch:  # closed before Airflow opens the same chDB folder
            ch.run_sql_file("schema/database.sql")
            ch.run_sql_file("schema/state_tables.sql")
            ch.run_sql_file("demo/seed_wallet_metrics.sql", {"wallets": eoas, "volumes": volumes})
        started = time.monotonic()
        run([str(BIN / "airflow"), "dags", "test", "pm_proxy_discovery"], env, quiet=True)
        discovery_s = time.monotonic() - started
        started = time.monotonic()
        run([str(BIN / "airflow"), "dags", "test", "clob_backfill", "-c", json.dumps({"lookback": "90d"})], env, quiet=True)
        backfill_s = time.monotonic() - started
        stats = emulator_get(url, "/__emulator/stats")
        with ClickHouseHook() as ch:
            maps = ch.query_rows(
                "SELECT user_eoa, proxy_wallet, wallet_type, resolved_by "
                "FROM {db:Identifier}.pm_user_proxy_wallets_v2 FINAL ORDER BY user_eoa, wallet_type, proxy_wallet"
            )
            rows = ch.query_file_dicts("report/fills_by_wallet.sql", {"fills_table": "clob_fills_v2", "wallets": []})
        started = time.monotonic()
        promotion = run([str(BIN / "airflow"), "dags", "test", "clob_promotion", "-c", json.dumps(APPROVE)], env, quiet=True)
        promotion_s = time.monotonic() - started
        health = run([str(BIN / "airflow"), "dags", "test", "clob_health"], env, quiet=True)

    with ClickHouseHook() as ch:
        from clob_pipeline.promotion.live import live_tables
        from clob_pipeline.promotion.swap import table_catalog, table_rows

        catalog = table_catalog(ch)
        counts = {name: table_rows(ch, name) for name in sorted(catalog)}
        live = live_tables(ch)
    kinds = Counter(kind for _, _, kind, _ in maps)
    wallets_of = Counter(eoa for eoa, _, _, _ in maps)
    print(
        f"\npm_proxy_discovery finished in {discovery_s:.1f}s: {len(maps)} mappings of {len(wallets_of)} users "
        f"({sum(e != p for e, p, _, _ in maps)} proxy-separated: {kinds['proxy']} proxy, {kinds['safe']} safe, "
        f"{kinds['deposit']} deposit; {kinds['direct']} direct; {sum(n > 1 for n in wallets_of.values())} users trade "
        f"from two or more wallets, marked *); the malformed and the low-volume wallet were skipped"
    )
    for eoa, proxy, kind, by in maps:
        print(f"{'*' if wallets_of[eoa] > 1 else ' '} {eoa} -> {proxy}  {kind:7} ({by})")
    print(
        f"\nclob_backfill (lookback 90d, source data_api_v2, every mapped wallet) finished in {backfill_s:.1f}s; the emulator "
        f"served {stats.get('/v2/trades', 0)} /v2/trades, {stats.get('/trades', 0)} /trades and "
        f"{stats.get('/public-profile', 0)} /public-profile requests"
    )
    print(f"{'wallet':44} {'fills':>6}  first fill -> last fill (UTC)")
    for row in rows:
        print(f"{row['wallet']:44} {row['fills']:>6}  {row['first_fill']:%Y-%m-%d %H:%M} -> {row['last_fill']:%Y-%m-%d %H:%M}")
    total = sum(r["fills"] for r in rows)
    first = min(r["first_fill"] for r in rows)
    last = max(r["last_fill"] for r in rows)
    print(f"TOTAL {len(rows)} wallets, {total} fills, {first:%Y-%m-%d} -> {last:%Y-%m-%d} in polymarket.clob_fills_v2 ({CHDB})")
    verdict = re.search(r"^audit verdict: (.+)$", promotion.stdout, re.MULTILINE)
    report = re.search(r"^audit report: (\S+)$", promotion.stdout, re.MULTILINE)
    if not (verdict and report):
        raise SystemExit("clob_promotion's log has no 'audit verdict:' / 'audit report:' line (audit_promote changed?)")
    print(f"\nclob_promotion audit verdict: {verdict.group(1)}")
    print(f"audit report (open it in a browser): {report.group(1)}")
    print(
        f"approval: automatic (the demo triggers with {json.dumps(APPROVE)}); a person triggering clob_promotion "
        "approves or rejects on the run's Required actions page"
    )
    print(f"clob_promotion finished in {promotion_s:.1f}s (every check passed, approved); rows per table now:")
    for name, n in counts.items():
        print(f"  polymarket.{name:28} {n:>6}")
    print(f"live tables (clob_incremental writes here): {live}")
    warnings = [line.split("WARNING check ", 1)[1][:160] for line in health.stdout.splitlines() if "WARNING check " in line]
    print(f"clob_health: passed{'; warnings: ' + ' | '.join(warnings) if warnings else ', no warnings'}")
    chain_section(anchor, [p for _, p, _, _ in maps])
    return 0


def chain_section(anchor: int, wallets: list[str]) -> None:
    """Issue #20: the mapped wallets loaded from the chain as well (Option B: a deployment with no Data API,
    database polymarket_chain), then clob_reconcile of production against the chain, each wallet's verdict."""
    from clob_pipeline.hooks.clickhouse import ClickHouseHook
    from clob_pipeline.reconcile.verdict import summarize

    days = 89  # complete days inside the 90-day lookback the backfill loaded
    with emulator(DATA, anchor=anchor, **EMULATED) as url:
        env = airflow_env(AIRFLOW_HOME, CHDB, url)
        chain_env = {**airflow_env(AIRFLOW_HOME, CHDB, url, database="polymarket_chain")}
        chain_env.pop("AIRFLOW_CONN_POLYMARKET_DATA_API")  # Option B: the chain is the only fill source
        started = time.monotonic()
        conf = {"lookback": "90d", "source": "chain", "wallets": wallets}
        run([str(BIN / "airflow"), "dags", "test", "clob_backfill", "-c", json.dumps(conf)], chain_env, quiet=True)
        chain_s = time.monotonic() - started
        stats = emulator_get(url, "/__emulator/stats")
        started = time.monotonic()
        reconcile = run(
            [str(BIN / "airflow"), "dags", "test", "clob_reconcile", "-c", json.dumps({"target": "production", "days": days})],
            env,
            quiet=True,
        )
        reconcile_s = time.monotonic() - started
    os.environ.update(chain_env)
    with ClickHouseHook() as ch:
        chain_counts = dict(ch.query_file("report/fill_counts.sql", {"fills_table": "clob_fills_v2"}))
    os.environ.update(env)
    with ClickHouseHook() as ch:
        api_counts = dict(ch.query_file("report/fill_counts.sql", {"fills_table": "clob_fills"}))
        run_id = ch.query_file("reconcile/latest_run.sql", {"fills_table": "clob_fills"})[0][0]
        rows = ch.query_file_dicts("reconcile/run_rows.sql", {"run_id": run_id})
    print(
        f"\nclob_backfill source=chain (no Data API connection, database polymarket_chain) finished in {chain_s:.1f}s: "
        f"{sum(chain_counts.values())} fills from {stats.get('rpc', 0)} JSON-RPC requests "
        f"({stats.get('rpc:eth_getLogs', 0)} eth_getLogs); the emulator served 0 Data API requests to it"
    )
    print(f"{'wallet':44} {'API fills (clob_fills)':>22} {'chain fills (polymarket_chain)':>31}")
    for wallet in wallets:
        print(f"{wallet:44} {api_counts.get(wallet, 0):>22} {chain_counts.get(wallet, 0):>31}")
    verdict = summarize(rows, wallets, tolerance=0)
    state = "passed" if "reconciled" in reconcile.stdout and not verdict.blocking else "see its log"
    print(
        f"\nclob_reconcile (production against the chain, {days} days) finished in {reconcile_s:.1f}s ({state}): "
        f"{verdict.headline()}"
    )
    for wallet in verdict.wallets:
        print(f"  {wallet.describe()}")


if __name__ == "__main__":
    raise SystemExit(main())
