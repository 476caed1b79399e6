"""
### pm_proxy_discovery — map the most active wallets to every Polymarket wallet they trade from

Manual trigger; also the first step of a fresh setup (then `clob_backfill` loads every mapped
wallet). Reads the top `top_n` wallets with `total_volume_usd > min_volume_usd` from
`metrics_table` and resolves each EOA to **every** wallet it trades from: Gamma `/public-profile`'s
`proxyWallet` (typed by the CREATE2 cross-check against the derived proxy / Safe / deposit-wallet
addresses), plus each derived wallet and the EOA itself that has Data API trades (an EOA can trade
from several, e.g. an older Safe and a newer deposit wallet; Gamma names one). Each wallet is its
own row of `pm_user_proxy_wallets_v2` (`user_eoa`, `proxy_wallet`, `wallet_type` proxy / safe /
deposit / direct, `resolved_by`, `resolved_at`). Proxy, Safe and deposit wallets all count as
proxy-separated.

**The mapping never shrinks**: nothing is deleted; a failed or empty lookup writes nothing; a new
wallet of a known EOA is added beside its known ones, never instead of them; a re-run adds no rows.
A known pair is only re-typed to the type its CREATE2 derivation proves (e.g. a deposit wallet
stored as `proxy` by an older version becomes `deposit`).

**Bad input**: a malformed address in the metrics table or in `wallets` is logged with its value
and skipped; it never writes a row and never aborts the run.
"""

from __future__ import annotations

import time
from typing import Any

from airflow.sdk import Param, TriggerRule, dag, task
from airflow.sdk.exceptions import AirflowFailException

from clob_pipeline.config import CLICKHOUSE_POOL, STAGING_PROXY_TABLE, WALLET_METRICS_TABLE
from clob_pipeline.dag_defaults import DAG_ARGS
from clob_pipeline.dag_parts import ensure_schema_task
from clob_pipeline.operators.proxy_resolution import ResolveProxyWalletsOperator

BATCH = 25  # wallets per mapped resolve task


@dag(
    dag_id="pm_proxy_discovery",
    schedule=None,
    **DAG_ARGS,
    doc_md=__doc__,
    tags=["polymarket", "clickhouse", "proxy-wallets"],
    params={
        "top_n": Param(100, type="integer", minimum=1, maximum=100_000, title="Top N wallets"),
        "min_volume_usd": Param(10_000, type="number", minimum=0, title="Minimum volume (USD)"),
        "metrics_table": Param(
            WALLET_METRICS_TABLE,
            type="string",
            pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,127}$",
            title="Metrics table",
            description="Table in the bundle database with wallet, total_volume_usd.",
        ),
        "wallets": Param(
            None,
            type=["null", "array"],  # "null": the trigger form shows the field as optional
            items={"type": "string"},
            title="Extra wallets",
            description="Addresses to resolve besides the top N (malformed ones are reported and skipped).",
        ),
    },
)
def pm_proxy_discovery() -> None:
    ensure_schema = ensure_schema_task()

    @task(pool=CLICKHOUSE_POOL)
    def select_wallets(**context: Any) -> list[list[str]]:
        """Top wallets by volume plus the Param's extras; malformed addresses reported and skipped."""
        from clob_pipeline.fills.params import ParamError, normalize_wallet
        from clob_pipeline.hooks.clickhouse import ClickHouseHook

        params = context["params"]
        with ClickHouseHook() as ch:
            exists = ch.query_file("proxy/metrics_table_exists.sql", {"metrics_table": params["metrics_table"]})[0][0]
            if not exists:
                raise AirflowFailException(
                    f"metrics table {ch.bundle_database}.{params['metrics_table']} does not exist; "
                    "create it (wallet String, total_volume_usd Float64) or fix the Param."
                )
            rows = ch.query_file(
                "proxy/top_wallets.sql",
                {
                    "metrics_table": params["metrics_table"],
                    "min_volume_usd": float(params["min_volume_usd"]),
                    "top_n": int(params["top_n"]),
                },
            )
        candidates = [(f"{params['metrics_table']}.wallet", w) for w, _ in rows]
        candidates += [(f"wallets[{i}]", w) for i, w in enumerate(params.get("wallets") or [])]
        wallets: dict[str, None] = {}
        for field, value in candidates:
            try:
                wallets[normalize_wallet(value, field)] = None
            except ParamError as err:
                print(f"skipping malformed address: {err}")
        chosen = list(wallets)
        print(
            f"selected {len(chosen)} wallets ({len(rows)} from {params['metrics_table']} with volume > "
            f"{params['min_volume_usd']}, {len(candidates) - len(chosen)} skipped or duplicate)"
        )
        return [chosen[i : i + BATCH] for i in range(0, len(chosen), BATCH)]

    @task(pool=CLICKHOUSE_POOL, trigger_rule=TriggerRule.ALL_DONE)
    def store_mappings(results: list[dict[str, Any]] | None, **context: Any) -> dict[str, int]:
        """Upsert new mappings and proven type corrections only; never delete, never let a weaker result
        override a known one. Runs when some resolve tasks failed (their batches' wallets are reported),
        then fails the run."""
        import datetime as dt
        from collections import Counter

        from clob_pipeline.hooks.clickhouse import ClickHouseHook
        from clob_pipeline.proxy.derive import derived_type
        from clob_pipeline.run_state import fail_if_run_failed

        started = time.monotonic()
        # A slice reads the mapped results in one request; iterating would ask for one past the end
        # (the scheduler then logs "XCom not found ... resolve_wallets" on every normal run).
        results = [r for r in (results or [])[:] if r]
        resolved = [m for r in results for m in r["resolved"]]
        failed = [f for r in results for f in r["failed"]]
        not_found = sum(len(r["not_found"]) for r in results)
        gamma_failed = sum(len(r.get("gamma_failed", [])) for r in results)  # resolved from the probes only
        requests = sum(r.get("requests", 0) for r in results)
        with ClickHouseHook() as ch:
            known = ch.query_file(
                "proxy/known_mappings.sql",
                {"proxy_table": STAGING_PROXY_TABLE, "eoas": sorted({m["user_eoa"] for m in resolved})},
            )
            types = {(eoa, proxy): kind for eoa, proxy, kind in known}
            now = dt.datetime.now(dt.UTC)
            new = [m for m in resolved if (m["user_eoa"], m["proxy_wallet"]) not in types]  # beside known wallets
            retyped = [
                m
                for m in resolved
                if types.get((m["user_eoa"], m["proxy_wallet"]), m["wallet_type"]) != m["wallet_type"]
                and derived_type(m["user_eoa"], m["proxy_wallet"]) == m["wallet_type"]
            ]
            for m in retyped:
                print(
                    f"re-typed {m['user_eoa']} -> {m['proxy_wallet']}: "
                    f"{types[m['user_eoa'], m['proxy_wallet']]} -> {m['wallet_type']} (proven by CREATE2)"
                )
            if new or retyped:
                ch.bulk_insert_rows(
                    STAGING_PROXY_TABLE,
                    [(m["user_eoa"], m["proxy_wallet"], m["wallet_type"], m["resolved_by"], now, now) for m in new + retyped],
                    column_names=["user_eoa", "proxy_wallet", "wallet_type", "resolved_by", "resolved_at", "updated_at"],
                )
            counts = ch.query_file("proxy/mapping_counts.sql", {"proxy_table": STAGING_PROXY_TABLE})[0]
            total, separated, direct, deposit, users, several = counts
        eoas = Counter(m["user_eoa"] for m in resolved)
        looked_up = len(eoas) + len(failed) + not_found
        kinds = Counter(m["wallet_type"] for m in resolved if m["proxy_wallet"] != m["user_eoa"])
        found = sum(kinds.values())
        for f in failed:
            print(f"FAILED {f['wallet']}: {f['error']}")
        print(
            f"proxy discovery: looked_up={looked_up} wallets={len(resolved)} direct={len(resolved) - found} "
            f"proxy_separated={found} (proxy={kinds['proxy']} safe={kinds['safe']} deposit={kinds['deposit']}) "
            f"several_wallets={sum(n > 1 for n in eoas.values())} no_activity={not_found} failed={len(failed)} "
            f"gamma_failed={gamma_failed} with {requests} API requests; "
            f"new_rows={len(new)} retyped={len(retyped)}; {STAGING_PROXY_TABLE} now {total} mappings of {users} "
            f"users ({separated} proxy-separated of which {deposit} deposit, {direct} direct; {several} users with "
            f"several wallets) in {time.monotonic() - started:.2f}s"
        )
        if failed and not resolved:
            raise AirflowFailException(
                f"all {len(failed)} lookups failed; check the polymarket_gamma connection and the "
                "resolve task logs, then trigger again (nothing was removed)."
            )
        fail_if_run_failed(context, f"{len(new)} new mapping(s) were stored")
        return {
            "looked_up": looked_up,
            "proxy_separated": found,
            "failed": len(failed),
            "new_rows": len(new),
            "retyped": len(retyped),
            "requests": requests,
        }

    batches = select_wallets()
    ensure_schema >> batches
    resolved = ResolveProxyWalletsOperator.partial(task_id="resolve_wallets").expand(wallets=batches)
    store_mappings(resolved.output)


pm_proxy_discovery()
