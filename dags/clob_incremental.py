"""
### clob_incremental — every 6 hours, load only the fills that are new since each wallet's last sync

Schedule `0 */6 * * *` (UTC), no catch-up, one run at a time. For every tracked wallet (proxy
wallets in `pm_user_proxy_wallets_v2`) it reads fills newer than the wallet's stored watermark
minus `overlap_minutes` (default 60, so late-arriving fills are caught) and inserts the new ones;
a wallet never synced starts `new_wallet_lookback` back. The watermark moves only after the
inserts succeeded. Overlapping windows, retries and repeated runs insert no fill already stored
(README, Re-runs and failures: when a second row of a `fill_id` stays until a merge).

A failed wallet does not block the others: the run ends failed naming it, and the next run
retries it from its old watermark. The run summary gives wallets, pages, new fills, seconds.

Writes to the live tables, read from ClickHouse (`live_tables`) when each task starts: staging
(`clob_fills_v2`, wallets from `pm_user_proxy_wallets_v2`) until `clob_promotion` has run, production
after. While a promotion or rollback holds the ingestion pause, runs and wallet tasks skip; the
next run catches up from the watermarks.
"""

from __future__ import annotations

import time
from typing import Any

from airflow.sdk import Param, TriggerRule, dag, task
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

from clob_pipeline.config import CLICKHOUSE_POOL
from clob_pipeline.dag_defaults import DAG_ARGS
from clob_pipeline.dag_parts import ensure_schema_task, load_fills_in_batches, source_param, wallets_per_task_param
from clob_pipeline.fills.params import LOOKBACK_DAYS


@dag(
    dag_id="clob_incremental",
    schedule="0 */6 * * *",
    **DAG_ARGS,
    doc_md=__doc__,
    tags=["polymarket", "clickhouse", "incremental"],
    params={
        "overlap_minutes": Param(
            60,
            type="integer",
            minimum=0,
            maximum=7 * 24 * 60,
            title="Overlap (minutes)",
            description="Re-read this much before each watermark to catch late fills.",
        ),
        "new_wallet_lookback": Param(
            "90d", type="string", enum=[k for k in LOOKBACK_DAYS if k != "all"], title="Lookback for wallets never synced"
        ),
        "source": source_param(),
        "wallets_per_task": wallets_per_task_param(200),
    },
)
def clob_incremental() -> None:
    ensure_schema = ensure_schema_task()

    @task(pool=CLICKHOUSE_POOL)
    def list_wallets(**context: Any) -> list[dict[str, Any]]:
        """Every tracked wallet in batches of ``wallets_per_task``, with the run's fixed end time and
        the overlap / lookback to apply."""
        from clob_pipeline.fills.params import validate_source
        from clob_pipeline.hooks.clickhouse import ClickHouseHook
        from clob_pipeline.promotion.live import ingestion_pause, live_tables

        params = context["params"]
        source = validate_source(params["source"])
        end_s = int(time.time())
        with ClickHouseHook() as ch:
            if (pause := ingestion_pause(ch)) is not None:
                raise AirflowSkipException(f"{pause.describe()}; this run skips, the next one catches up")
            live = live_tables(ch)
            pairs = ch.query_file("wallets/tracked_wallets.sql", {"proxy_table": live["proxy"]})
        if not pairs:
            raise AirflowFailException(f"no wallets to sync: {live['proxy']} is empty. Run pm_proxy_discovery first.")
        print(f"live tables: fills={live['fills']} proxy={live['proxy']}")
        overlap_s = int(params["overlap_minutes"]) * 60
        lookback_s = LOOKBACK_DAYS[params["new_wallet_lookback"]] * 86_400
        size = int(params["wallets_per_task"])
        batches = [pairs[i : i + size] for i in range(0, len(pairs), size)]
        print(
            f"syncing {len(pairs)} wallets in {len(batches)} tasks up to {end_s} "
            f"(overlap {overlap_s}s, new wallets {lookback_s}s back)"
        )
        return [
            {
                "wallets": [{"wallet": w, "user_eoa": e} for w, e in batch],
                "window": {"policy": "since_watermark", "end_s": end_s, "overlap_s": overlap_s, "lookback_s": lookback_s},
                "source": source,
            }
            for batch in batches
        ]

    @task(pool=CLICKHOUSE_POOL, trigger_rule=TriggerRule.ALL_DONE)
    def summarize(wallet_kwargs: list[dict[str, Any]] | None, **context: Any) -> dict[str, Any]:
        """Run totals; fail naming every wallet that failed (it resumes from its old watermark), and
        skip (grey) when the ingestion pause skipped wallets and nothing failed."""
        from clob_pipeline.hooks.clickhouse import ClickHouseHook
        from clob_pipeline.run_state import UpstreamTaskFailedError, fail_if_run_failed, run_task_states, unfinished_wallets

        batches = [[item["wallet"] for item in kw["wallets"]] for kw in wallet_kwargs or []]
        wallets = [w for batch in batches for w in batch]
        with ClickHouseHook() as ch:
            done = {
                r["wallet"]: r
                for r in ch.query_file_dicts("state/run_checkpoints.sql", {"run_id": context["run_id"]})
                if r["done"]
            }
        states = run_task_states(context)
        failed, paused = unfinished_wallets(batches, done, states, "load_new_fills")
        pages = sum(r["pages"] for r in done.values())
        new = sum(r["rows_inserted"] for r in done.values())
        pulled = context["ti"].xcom_pull(task_ids="load_new_fills")  # one dict if only one batch ran
        loaded = [b for b in ([pulled] if isinstance(pulled, dict) else pulled or []) if isinstance(b, dict)]
        moved = [b for b in loaded if b.get("watermarks_moved")]
        watermarks = (
            f"watermarks_moved={sum(b['watermarks_moved'] for b in moved)} "
            f"(from {min(b['watermark_from'] for b in moved)} to {max(b['watermark_to'] for b in moved)})"
            if moved
            else "watermarks_moved=0"
        )
        seconds = time.time() - context["dag_run"].start_date.timestamp()
        print(
            f"incremental summary: wallets={len(wallets)} synced={len(done)} failed={len(failed)} "
            f"skipped_by_pause={len(paused)} pages={pages} new_fills={new} {watermarks} in {seconds:.1f}s"
        )
        if failed:
            raise UpstreamTaskFailedError(  # quiet: the failed load task alerted already
                f"{len(failed)} wallet(s) failed and keep their old watermark: {', '.join(failed[:10])}"
                f"{' ...' if len(failed) > 10 else ''}. The next run retries them; read their load_new_fills logs."
            )
        fail_if_run_failed(context, "the summary above was printed", states)
        if paused or str(states.get("list_wallets")) == "skipped":
            raise AirflowSkipException(
                f"ingestion was paused by a promotion or rollback ({len(paused)} wallet(s) skipped, "
                f"{len(done)} synced); the next run catches up from their watermarks"
            )
        if not wallets:
            raise AirflowFailException("no wallets were listed; see list_wallets for the reason")
        return {"wallets": len(wallets), "pages": pages, "new_fills": new}

    wallet_kwargs = list_wallets()  # one entry per batch of wallets
    ensure_schema >> wallet_kwargs
    loads = load_fills_in_batches("load_new_fills", wallet_kwargs)
    loads >> summarize(wallet_kwargs)


clob_incremental()
