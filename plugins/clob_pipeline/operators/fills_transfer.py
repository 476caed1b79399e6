"""Transfer wallets' fills from Polymarket (Data API or CLOB) into a ClickHouse fills table."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from contextlib import closing
from typing import Any

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowException, AirflowFailException, AirflowSkipException

from clob_pipeline.config import CLICKHOUSE_CONN_ID, CLOB_CONN_ID, DATA_API_CONN_ID, STAGING_FILLS_TABLE, batch_rows
from clob_pipeline.errors import NotRetryableError, is_retryable
from clob_pipeline.fills.chain_pager import ChainFillNormalizer, ChainWitnessPager
from clob_pipeline.fills.normalize import ClobFillNormalizer, DataApiFillNormalizer
from clob_pipeline.fills.pagers import ClobPager, DataApiPager
from clob_pipeline.fills.params import normalize_wallet, validate_source
from clob_pipeline.fills.source_rule import refuse_mixed_sources
from clob_pipeline.hooks.chain_source import ChainSourceHook
from clob_pipeline.hooks.clickhouse import ClickHouseHook
from clob_pipeline.hooks.polymarket import PolymarketClobHook, PolymarketDataApiHook, PolymarketHook
from clob_pipeline.operators.wallet_load import WalletLoad


class PermanentWalletFailuresError(NotRetryableError, AirflowException):
    """Every failed wallet of a batch failed for a reason a retry cannot fix (e.g. a CLOB 401)."""


# Per source: the API hook, the pager and the normaliser. The loader's loop is the same for both.
SOURCES: dict[str, tuple[Any, Any, Any]] = {
    "data_api": (PolymarketDataApiHook, DataApiPager, DataApiFillNormalizer),
    "clob": (PolymarketClobHook, ClobPager, ClobFillNormalizer),
    "chain": (ChainSourceHook, ChainWitnessPager, ChainFillNormalizer),  # polygon_rpc via the witness table
}


class PolymarketFillsToClickHouseOperator(BaseOperator):
    """Stream one wallet's (or a batch of wallets') fills page by page into ClickHouse, checkpointing
    after every batch of rows.

    Two modes share this operator:

    - **window** (backfill): ``start_s``/``end_s`` given; fills in that window are loaded.
    - **since watermark** (incremental): ``start_s`` is None; the window starts at the wallet's
      watermark minus ``overlap_s`` (late-arriving fills), or ``end_s - default_lookback_s`` for a
      wallet with no fills stored. The watermark is the newest fill *stored in the target table*,
      so it only moves once inserts succeeded, and it stays right when a promotion or rollback
      swaps the table under the name.

    A source's *pager* (``fills/pagers.py``) says which request comes next and hands over whole
    seconds of rows; they are normalised (every row validated before it is written), given their
    fill ids, buffered and inserted as Arrow batches of ``batch_rows``; fills already stored are
    skipped (see ``FillBatchWriter``). After each batch the run's checkpoint records the pager's
    resume point, so an Airflow retry of this task resumes there instead of starting over.
    Nothing goes through XCom but a small summary.

    :param wallet: proxy wallet (templated).
    :param user_eoa: the EOA behind it; empty = the wallet trades directly (templated).
    :param wallets: instead of ``wallet``/``user_eoa``: a list of ``{"wallet", "user_eoa"}`` loaded one
        after the other in this task (one ClickHouse session and one set of state reads for all;
        the incremental DAG uses it, since a run that finds nothing new is dominated by per-task
        cost). A failing wallet does not stop the others; the task then fails naming it, and its
        retry re-runs only the wallets not checkpointed as done.
    :param source: ``data_api`` (public, default) or ``clob`` (L2 key owner's trades) (templated).
    :param fills_table: target table in the bundle database (templated); ``None`` = the live fills
        table (read from ``live_tables`` when the task starts). With ``None`` the task also honours
        the ingestion pause of a running promotion (it skips) and fails for a retry if the live
        table changed while it ran, so no fill lands in a table that just stopped being live.
    """

    template_fields: Sequence[str] = ("wallet", "user_eoa", "wallets", "start_s", "end_s", "source", "fills_table")
    ui_color = "#d6ecff"

    def __init__(
        self,
        *,
        end_s: int | str,
        wallet: str = "",
        wallets: list[dict[str, str]] | None = None,
        start_s: int | str | None = None,
        user_eoa: str = "",
        source: str = "data_api",
        fills_table: str | None = STAGING_FILLS_TABLE,
        overlap_s: int = 3600,
        default_lookback_s: int = 90 * 86_400,
        batch_rows: int | None = None,
        clickhouse_conn_id: str = CLICKHOUSE_CONN_ID,
        data_api_conn_id: str = DATA_API_CONN_ID,
        clob_conn_id: str = CLOB_CONN_ID,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.wallet = wallet
        self.wallets = wallets
        self.user_eoa = user_eoa
        self.start_s = start_s
        self.end_s = end_s
        self.source = source
        self.fills_table = fills_table
        self.overlap_s = overlap_s
        self.default_lookback_s = default_lookback_s
        self.batch_rows = batch_rows
        self.clickhouse_conn_id = clickhouse_conn_id
        self.data_api_conn_id = data_api_conn_id
        self.clob_conn_id = clob_conn_id

    @property
    def label(self) -> str:
        """What this task loads, for the mapped-task label."""
        if self.wallets:
            first = str(self.wallets[0].get("wallet", "?"))
            return f"{first[:10]}… +{len(self.wallets) - 1} wallets" if len(self.wallets) > 1 else first
        return str(self.wallet)

    def _targets(self) -> list[tuple[str, str]]:
        """(wallet, user_eoa) pairs, validated before anything is written (ValueError names the value)."""
        items = self.wallets if self.wallets else [{"wallet": self.wallet, "user_eoa": self.user_eoa}]
        targets = []
        for item in items:
            wallet = normalize_wallet(item.get("wallet", ""))
            eoa = item.get("user_eoa") or ""
            targets.append((wallet, normalize_wallet(eoa, "user_eoa") if eoa else wallet))
        return targets

    def _live_fills_table(self, ch: ClickHouseHook, check_pause: bool = True) -> str:
        """The live fills table; skips this task while a promotion or rollback pauses ingestion."""
        from clob_pipeline.promotion.live import ingestion_pause, live_tables

        if check_pause and (pause := ingestion_pause(ch)) is not None:
            raise AirflowSkipException(f"{pause.describe()}; skipping {self.label}. The next run loads it from its watermark.")
        return live_tables(ch)["fills"]

    def execute(self, context: Any) -> dict[str, Any]:
        from clob_pipeline.fills.fetch_driver import FetchDriver, WalletEnd  # run time only
        from clob_pipeline.operators.fill_writer import gc_paused

        started = time.monotonic()
        targets = self._targets()
        source = validate_source(self.source)
        summaries: list[dict[str, Any]] = []
        failed: dict[str, BaseException] = {}
        with ClickHouseHook(self.clickhouse_conn_id) as ch, gc_paused():
            fills_table = self.fills_table or self._live_fills_table(ch)
            api = self._api_hook(source)
            loads = self._wallet_loads(ch, api, context["run_id"], source, fills_table, targets)
            driver = FetchDriver(api, max_in_flight=api.max_in_flight)
            try:
                with closing(driver.run({w: load.pager for w, load in loads.items()})) as events:
                    for event in events:
                        load = loads[event.wallet]
                        if event.wallet in failed:
                            continue  # its writer failed earlier; the other wallets go on
                        try:
                            if isinstance(event, WalletEnd):
                                summaries.append(load.finish(event.requests, event.limiter_wait_s, event.error))
                            else:
                                load.take(event.fed)
                        except Exception as exc:
                            if len(targets) == 1:
                                raise
                            self.log.error("wallet %s failed: %s; the other wallets of this task go on", event.wallet, exc)
                            failed[event.wallet] = exc
            finally:
                for load in loads.values():
                    load.close()
                api.close()
            self.log.info("fetch: %s", driver.stats.summary())
            if self.fills_table is None and self._live_fills_table(ch, check_pause=False) != fills_table:
                raise AirflowException(
                    f"the live fills table changed from {fills_table} while this task ran (a promotion or rollback). "
                    "Fills loaded here may be in a table that is no longer live; the next run reloads them from the "
                    "live table's own watermark, so nothing is lost."
                )
        summaries += self._done_before(targets, loads)
        if len(targets) == 1:
            return summaries[0]
        return self._batch_summary(targets, fills_table, summaries, failed, time.monotonic() - started)

    def _wallet_loads(
        self, ch: ClickHouseHook, api: PolymarketHook, run_id: str, source: str, fills_table: str, targets: list[tuple[str, str]]
    ) -> dict[str, WalletLoad]:
        """A ``WalletLoad`` per wallet not yet done in this run: its pager starts at the run's
        checkpoint, else at the window's end; the window starts at the Param, else the watermark
        minus the overlap."""
        from clob_pipeline.operators.fill_writer import FillBatchWriter  # pyarrow: run time only

        table_uuid = self._table_uuid(ch, fills_table)
        refuse_mixed_sources(ch, fills_table, source, [w for w, _ in targets])  # chain vs API: never both
        checkpoints, stats_before = self._read_state(ch, run_id, source, fills_table, [w for w, _ in targets])
        _, pager_class, normalizer_class = SOURCES[source]
        end_s = int(self.end_s)
        served = api.served_page_size()
        loads = {}
        for wallet, user_eoa in targets:
            cp = checkpoints.get(wallet)
            if cp and cp["done"]:
                self.log.info("wallet %s already loaded in run %s (%d rows inserted then)", wallet, run_id, cp["rows_inserted"])
                continue
            if cp:
                self.log.info("resuming wallet %s from checkpoint: %s", wallet, dict(cp))
            stored = stats_before.get(wallet, (0, None))
            start_s = self._window_start(end_s, stored[1] if stored[0] else None)
            loads[wallet] = WalletLoad(
                ch=ch,
                log=self.log,
                run_id=run_id,
                source=source,
                fills_table=fills_table,
                table_uuid=table_uuid,
                wallet=wallet,
                pager=pager_class(wallet, start_s, cp["resume_end_s"] if cp else end_s, api.page_size, served),
                normalizer=normalizer_class(wallet, user_eoa),
                # one wallet: its inserts overlap the next batch on a thread of their own; several
                # wallets share the ClickHouse client, so each stores on the consumer thread
                writer=FillBatchWriter(ch, fills_table, wallet, background=len(targets) == 1),
                checkpoint=cp,
                stored=stored,
                window=(start_s, end_s),
                batch_rows=self.batch_rows or batch_rows(),
            )
        return loads

    @staticmethod
    def _done_before(targets: list[tuple[str, str]], loads: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Summaries of the wallets a checkpoint says this run already loaded."""
        return [
            {"wallet": w, "pages": 0, "requests": 0, "rows_seen": 0, "rows_inserted": 0, "resumed": True}
            for w, _ in targets
            if w not in loads
        ]

    def _api_hook(self, source: str) -> PolymarketHook:
        """One API hook (one session, one rate limiter) for every wallet of the task."""
        hook_class = SOURCES[source][0]
        return hook_class({"data_api": self.data_api_conn_id, "clob": self.clob_conn_id}.get(source))

    @staticmethod
    def _table_uuid(ch: ClickHouseHook, fills_table: str) -> str:
        table_uuid = dict(ch.query_file("promotion/table_uuids.sql", {"names": [fills_table]})).get(fills_table)
        if not table_uuid:
            raise AirflowFailException(
                f"fills table {ch.bundle_database}.{fills_table} does not exist; run the DAG's ensure_schema task first"
            )
        return table_uuid

    @staticmethod
    def _read_state(
        ch: ClickHouseHook, run_id: str, source: str, fills_table: str, wallets: list[str]
    ) -> tuple[dict[str, Mapping[str, Any]], dict[str, tuple[int, int | None]]]:
        """This run's checkpoints and each wallet's (fill count, newest fill ms) before loading."""
        checkpoints = {
            row["wallet"]: row
            for row in ch.query_file_dicts("state/read_checkpoints.sql", {"run_id": run_id, "source": source, "wallets": wallets})
        }
        stats = {
            wallet: (fills, newest_ms)
            for wallet, fills, newest_ms in ch.query_file(
                "fills/wallets_fill_stats.sql", {"fills_table": fills_table, "wallets": wallets}
            )
        }
        return checkpoints, stats

    def _window_start(self, end_s: int, newest_before_ms: int | None) -> int:
        """The oldest second to read: the Param's start, else the watermark minus the overlap (late
        fills), else ``default_lookback_s`` back for a wallet with nothing stored."""
        if self.start_s not in (None, ""):
            return int(self.start_s)
        if newest_before_ms:
            return newest_before_ms // 1000 - self.overlap_s
        return end_s - self.default_lookback_s

    def _batch_summary(
        self,
        targets: list[tuple[str, str]],
        fills_table: str,
        summaries: list[dict[str, Any]],
        failed: dict[str, BaseException],
        seconds: float,
    ) -> dict[str, Any]:
        """The task's closing line for a batch of wallets; fails naming the wallets that failed."""
        totals = {k: sum(s[k] for s in summaries) for k in ("pages", "requests", "rows_seen", "rows_inserted")}
        self.log.info(
            "batch of %d wallets into %s: done=%d failed=%d pages=%d requests=%d rows_seen=%d inserted=%d in %.2fs",
            len(targets),
            fills_table,
            len(summaries),
            len(failed),
            totals["pages"],
            totals["requests"],
            totals["rows_seen"],
            totals["rows_inserted"],
            seconds,
        )
        if failed:
            detail = "; ".join(f"{w}: {type(e).__name__}: {str(e)[:300]}" for w, e in list(failed.items())[:10])
            if not any(is_retryable(e) for e in failed.values()):  # a retry would fail them all again
                raise PermanentWalletFailuresError(
                    f"{len(failed)} of {len(targets)} wallets failed with errors a retry cannot fix ({detail}). "
                    "Fix the cause named above, then clear this task: it re-runs only these wallets."
                )
            raise AirflowException(
                f"{len(failed)} of {len(targets)} wallets failed ({detail}). A retry of this task re-runs only them "
                "(the others are checkpointed as done); once retries are exhausted, the next run starts them from "
                "their old watermark."
            )
        moved = [x for x in summaries if x.get("watermarks_moved")]
        return {
            "wallets": len(targets),
            "fills_table": fills_table,
            **totals,
            "watermarks_moved": len(moved),
            "watermark_from": min((x["watermark_from"] for x in moved), default="none"),
            "watermark_to": max((x["watermark_to"] for x in moved), default="none"),
            "seconds": round(seconds, 2),
        }
