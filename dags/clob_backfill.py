"""
### clob_backfill — load Polymarket fill history into ClickHouse staging

Manual trigger. Loads every tracked wallet's fills for the chosen lookback into
`clob_fills_v2` (staging), one mapped task per `wallets_per_task` wallets (their requests run concurrently).

**Params**
- `lookback`: `30d`, `90d` (default) or `all`.
- `wallets`: optional list of proxy wallets (`0x` + 40 hex). When empty, every proxy wallet in
  `pm_user_proxy_wallets_v2` is loaded. After a promotion (staging mappings moved to production),
  `list_wallets` first copies the live mappings back into staging, so the next backfill and the next
  promotion keep every tracked wallet.
- `source`: `data_api_v2` (public Data API v2, default; not fills below 0.01 shares), `data_api_v1`
  (public Data API v1) or `clob` (needs the `polymarket_clob` L2 key; lists only the key owner's
  trades); `data_api` means the default Data API.

**Tasks**: `plan_backfill` (checks the Params; nothing is written if they are bad) →
`ensure_schema` → `list_wallets` → `load_wallet_fills` (mapped per batch of wallets; streams pages,
checkpoints after each batch so a retry resumes) → `summarize` (per-wallet counts, fails
if any wallet did not finish).

**Re-running is safe**: fills already stored are skipped, so a second run inserts nothing.
A failed wallet: clear its `load_wallet_fills` instance; it resumes from its checkpoint.
"""

from __future__ import annotations

import time
from typing import Any

from airflow.sdk import Param, TriggerRule, dag, get_current_context, task
from airflow.sdk.exceptions import AirflowFailException

from clob_pipeline.config import CLICKHOUSE_POOL, STAGING_FILLS_TABLE, STAGING_PROXY_TABLE
from clob_pipeline.dag_defaults import DAG_ARGS
from clob_pipeline.dag_parts import ensure_schema_task, load_fills_in_batches, source_param, wallets_per_task_param
from clob_pipeline.fills.params import LOOKBACK_DAYS, WALLET_PATTERN


@dag(
    dag_id="clob_backfill",
    schedule=None,
    **DAG_ARGS,
    doc_md=__doc__,
    tags=["polymarket", "clickhouse", "backfill"],
    params={
        "lookback": Param(
            "90d",
            type="string",
            enum=list(LOOKBACK_DAYS),
            title="Lookback",
            description="How much history to load: 30d, 90d or all.",
        ),
        "wallets": Param(
            None,
            type=["null", "array"],  # "null": the trigger form shows the field as optional
            items={"type": "string", "pattern": WALLET_PATTERN},
            title="Wallets",
            description="Proxy wallets to load; empty = every wallet in pm_user_proxy_wallets_v2.",
        ),
        "source": source_param(),
        "wallets_per_task": wallets_per_task_param(50),
    },
)
def clob_backfill() -> None:
    @task(multiple_outputs=True)
    def plan_backfill(**context: Any) -> dict[str, Any]:
        """Check the Params and fix the time window once, so retries reuse the same window."""
        from clob_pipeline.fills.params import lookback_start_s, normalize_wallets, validate_source

        params = context["params"]
        end_s = int(time.time())
        plan = {
            "start_s": lookback_start_s(params["lookback"], end_s),
            "end_s": end_s,
            "source": validate_source(params["source"]),
            "wallets": normalize_wallets(params.get("wallets") or []),
        }
        print(
            f"plan: lookback={params['lookback']} window={plan['start_s']}..{end_s} source={plan['source']} "
            f"wallets={len(plan['wallets']) or 'all tracked'}"
        )
        return plan

    ensure_schema = ensure_schema_task()

    @task(pool=CLICKHOUSE_POOL)
    def list_wallets(plan: dict[str, Any]) -> list[dict[str, Any]]:
        """One kwargs dict per batch of ``wallets_per_task`` wallets for the mapped load task (the
        wallets and their EOAs, the fixed window, the source). After a promotion, first re-seeds the
        staging mappings from the live (production) ones."""
        from clob_pipeline.hooks.clickhouse import ClickHouseHook
        from clob_pipeline.promotion.live import live_tables

        with ClickHouseHook() as ch:
            live_proxy = live_tables(ch)["proxy"]
            if live_proxy != STAGING_PROXY_TABLE:
                before = ch.query_file("proxy/mapping_counts.sql", {"proxy_table": STAGING_PROXY_TABLE})[0][0]
                ch.run_sql_file(
                    "wallets/seed_staging_mappings.sql",
                    {"staging_proxy_table": STAGING_PROXY_TABLE, "live_proxy_table": live_proxy},
                )
                after = ch.query_file("proxy/mapping_counts.sql", {"proxy_table": STAGING_PROXY_TABLE})[0][0]
                print(
                    f"copied {after - before} mapping(s) from the live {live_proxy} into {STAGING_PROXY_TABLE} "
                    f"(now {after}), so this backfill and the next promotion keep every tracked wallet"
                )
            if plan["wallets"]:
                known = dict(
                    ch.query_file(
                        "wallets/user_eoa_for_wallets.sql", {"proxy_table": STAGING_PROXY_TABLE, "wallets": plan["wallets"]}
                    )
                )
                pairs = [(w, known.get(w, w)) for w in plan["wallets"]]
            else:
                pairs = ch.query_file("wallets/tracked_wallets.sql", {"proxy_table": STAGING_PROXY_TABLE})
        if not pairs:
            raise AirflowFailException(
                f"no wallets to load: {STAGING_PROXY_TABLE} (and the live mappings) hold no proxy wallets and the "
                "'wallets' Param is empty. "
                "Run pm_proxy_discovery first, or trigger again with wallets=[...]."
            )
        size = int(get_current_context()["params"]["wallets_per_task"])
        batches = [pairs[i : i + size] for i in range(0, len(pairs), size)]
        print(f"listed {len(pairs)} wallets ({sum(w != e for w, e in pairs)} proxy-separated) in {len(batches)} load tasks")
        return [
            {
                "wallets": [{"wallet": w, "user_eoa": e} for w, e in batch],
                "window": {"policy": "fixed", "start_s": plan["start_s"], "end_s": plan["end_s"]},
                "source": plan["source"],
            }
            for batch in batches
        ]

    @task(pool=CLICKHOUSE_POOL, trigger_rule=TriggerRule.ALL_DONE)
    def summarize(wallet_kwargs: list[dict[str, Any]] | None, **context: Any) -> dict[str, Any]:
        """Per-wallet fill counts (the loaders' ledger) and date range; fail naming every wallet that
        did not finish."""
        from clob_pipeline.hooks.clickhouse import ClickHouseHook
        from clob_pipeline.run_state import UpstreamTaskFailedError, fail_if_run_failed

        started = time.monotonic()
        wallets = [item["wallet"] for kw in wallet_kwargs or [] for item in kw["wallets"]]
        with ClickHouseHook() as ch:
            done = {
                r["wallet"]: r
                for r in ch.query_file_dicts("state/run_checkpoints.sql", {"run_id": context["run_id"]})
                if r["done"]
            }
            report = ch.query_file_dicts(
                "report/run_fills_by_wallet.sql", {"fills_table": STAGING_FILLS_TABLE, "wallets": wallets}
            )
        for row in report:
            cp = done.get(row["wallet"], {})
            fill_range = f"{row['first_fill']}..{row['last_fill']}" if row["fills"] else "none"
            print(
                f"{row['wallet']}: fills={row['fills']} range={fill_range} "
                f"inserted_this_run={cp.get('rows_inserted', 0)} pages={cp.get('pages', 0)}"
            )
        unfinished = [w for w in wallets if w not in done]
        total = sum(r["fills"] for r in report)
        inserted = sum(done[w]["rows_inserted"] for w in done)
        print(
            f"backfill summary: wallets={len(wallets)} finished={len(wallets) - len(unfinished)} "
            f"fills_in_{STAGING_FILLS_TABLE}={total} inserted_this_run={inserted} seconds={time.monotonic() - started:.2f}"
        )
        if unfinished:
            raise UpstreamTaskFailedError(  # quiet: the failed load task alerted already
                f"{len(unfinished)} wallet(s) did not finish: {', '.join(unfinished[:10])}"
                f"{' ...' if len(unfinished) > 10 else ''}. Their fills so far are stored and checkpointed; "
                "read the failed load_wallet_fills logs, fix the cause, then clear those instances to resume."
            )
        fail_if_run_failed(context, "the summary above was printed")
        if not wallets:
            raise AirflowFailException("no wallets were listed; see list_wallets for the reason")
        return {"wallets": len(wallets), "fills": total, "inserted": inserted}

    plan = plan_backfill()
    wallet_kwargs = list_wallets(plan)
    plan >> ensure_schema >> wallet_kwargs
    loads = load_fills_in_batches("load_wallet_fills", wallet_kwargs)
    loads >> summarize(wallet_kwargs)


clob_backfill()
