"""Transfer one wallet's fills from Polymarket (Data API or CLOB) into a ClickHouse fills table."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowException, AirflowFailException, AirflowSkipException

from clob_pipeline.config import CLICKHOUSE_CONN_ID, CLOB_CONN_ID, DATA_API_CONN_ID, STAGING_FILLS_TABLE, batch_rows
from clob_pipeline.fills.normalize import ClobFillNormalizer, DataApiFillNormalizer
from clob_pipeline.fills.paging import CLOB_END_CURSOR, CLOB_START_CURSOR
from clob_pipeline.fills.params import normalize_wallet, validate_source
from clob_pipeline.hooks.clickhouse import ClickHouseHook
from clob_pipeline.hooks.polymarket import PolymarketClobHook, PolymarketDataApiHook


def _utc(ms: int | None) -> str:
    return "none" if not ms else time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ms / 1000))


class PolymarketFillsToClickHouseOperator(BaseOperator):
    """Stream one wallet's fills page by page into ClickHouse, checkpointing after every batch.

    Two modes share this operator:

    - **window** (backfill): ``start_s``/``end_s`` given; fills in that window are loaded.
    - **since watermark** (incremental): ``start_s`` is None; the window starts at the wallet's
      watermark minus ``overlap_s`` (late-arriving fills), or ``end_s - default_lookback_s`` for a
      wallet with no fills stored. The watermark is the newest fill *stored in the target table*,
      so it only moves once inserts succeeded, and it stays right when a promotion or rollback
      swaps the table under the name.

    Pages are normalised (every row validated before its page is written), buffered and inserted
    as Arrow batches of ``batch_rows``; fills already stored are skipped (see ``FillBatchWriter``).
    After each batch the run's checkpoint records how far the wallet got, so an Airflow retry of
    this task resumes there instead of starting over. Nothing goes through XCom but a small summary.

    :param wallet: proxy wallet (templated).
    :param user_eoa: the EOA behind it; empty = the wallet trades directly (templated).
    :param source: ``data_api`` (public, default) or ``clob`` (L2 key owner's trades) (templated).
    :param fills_table: target table in the bundle database (templated); ``None`` = the live fills
        table (read from ``live_tables`` when the task starts). With ``None`` the task also honours
        the ingestion pause of a running promotion (it skips) and fails for a retry if the live
        table changed while it ran, so no fill lands in a table that just stopped being live.
    """

    template_fields: Sequence[str] = ("wallet", "user_eoa", "start_s", "end_s", "source", "fills_table")
    ui_color = "#d6ecff"

    def __init__(
        self,
        *,
        wallet: str,
        end_s: int | str,
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

    def _live_fills_table(self, ch: ClickHouseHook, check_pause: bool = True) -> str:
        """The live fills table; skips this task while a promotion or rollback pauses ingestion."""
        from clob_pipeline.promotion.live import ingestion_pause, live_tables

        if check_pause and (pause := ingestion_pause(ch)) is not None:
            raise AirflowSkipException(
                f"{pause.describe()}; skipping wallet {self.wallet}. The next run loads it from its watermark."
            )
        return live_tables(ch)["fills"]

    def execute(self, context: Any) -> dict[str, Any]:
        from clob_pipeline.operators.fill_writer import FillBatchWriter, gc_paused  # pyarrow: run time only

        started = time.monotonic()
        wallet = normalize_wallet(self.wallet)
        user_eoa = normalize_wallet(self.user_eoa, "user_eoa") if self.user_eoa else wallet
        source = validate_source(self.source)
        end_s = int(self.end_s)
        run_id = context["run_id"]
        key = {"run_id": run_id, "wallet": wallet, "source": source}

        with ClickHouseHook(self.clickhouse_conn_id) as ch, gc_paused():
            fills_table = self.fills_table or self._live_fills_table(ch)
            table_uuid = dict(ch.query_file("promotion/table_uuids.sql", {"names": [fills_table]})).get(fills_table)
            if not table_uuid:
                raise AirflowFailException(
                    f"fills table {ch.bundle_database}.{fills_table} does not exist; run the DAG's ensure_schema task first"
                )
            stored_before, newest_ms = ch.query_file(
                "fills/wallet_fill_stats.sql", {"fills_table": fills_table, "wallet": wallet}
            )[0]
            old_watermark_ms = newest_ms if stored_before else None
            if self.start_s not in (None, ""):
                start_s = int(self.start_s)
            elif old_watermark_ms:
                start_s = old_watermark_ms // 1000 - self.overlap_s
            else:
                start_s = end_s - self.default_lookback_s

            checkpoint = ch.query_file("state/read_checkpoint.sql", key)
            cp = (
                dict(zip(("resume_end_s", "resume_cursor", "pages", "rows_seen", "rows_inserted", "done"), checkpoint[0]))
                if checkpoint
                else None
            )
            if cp and cp["done"]:
                self.log.info(
                    "wallet %s already loaded in run %s (%d rows inserted then); nothing to do",
                    wallet,
                    run_id,
                    cp["rows_inserted"],
                )
                return {"wallet": wallet, "pages": 0, "rows_seen": 0, "rows_inserted": 0, "resumed": True}
            if cp:
                self.log.info("resuming wallet %s from checkpoint: %s", wallet, cp)

            writer = FillBatchWriter(ch, fills_table, wallet)
            batch_size = self.batch_rows or batch_rows()
            base_pages = cp["pages"] if cp else 0
            base_seen = cp["rows_seen"] if cp else 0
            base_inserted = cp["rows_inserted"] if cp else 0
            progress = {"pages": 0, "rows_seen": 0}

            def checkpoint_after(resume_end_s: int, resume_cursor: str) -> Callable[[], None]:
                """The checkpoint for what was read so far, to write once that batch is stored."""
                pages, seen = progress["pages"], progress["rows_seen"]
                return lambda: save_checkpoint(resume_end_s, resume_cursor, done=False, pages=pages, seen=seen)

            def save_checkpoint(
                resume_end_s: int, resume_cursor: str, done: bool, pages: int | None = None, seen: int | None = None
            ) -> None:
                ch.run_sql_file(
                    "state/write_checkpoint.sql",
                    {
                        **key,
                        "resume_end_s": resume_end_s,
                        "resume_cursor": resume_cursor,
                        "pages": base_pages + (progress["pages"] if pages is None else pages),
                        "rows_seen": base_seen + (progress["rows_seen"] if seen is None else seen),
                        "rows_inserted": base_inserted + writer.rows_inserted,
                        "done": int(done),
                    },
                )

            if source == "data_api":
                api: PolymarketDataApiHook | PolymarketClobHook = PolymarketDataApiHook(self.data_api_conn_id)
                resume_end = cp["resume_end_s"] if cp else end_s
                normalizer: DataApiFillNormalizer | ClobFillNormalizer = DataApiFillNormalizer(wallet, user_eoa)
                oldest_s: int | None = None
                try:
                    for page in api.iter_trade_pages(wallet, start_s, resume_end):
                        writer.add(normalizer.normalize_page(page.rows))
                        if page.window_narrowed:
                            normalizer.restart_window()
                        progress["pages"] += 1
                        progress["rows_seen"] += len(page.rows)
                        if page.oldest_s is not None:
                            oldest_s = page.oldest_s if oldest_s is None else min(oldest_s, page.oldest_s)
                        if writer.pending >= batch_size and oldest_s is not None:
                            writer.flush(checkpoint_after(oldest_s + 1, ""))
                    writer.flush()
                    writer.wait()
                finally:
                    api.close()
                    writer.close()
                save_checkpoint(start_s, "", done=True)
            else:
                api = PolymarketClobHook(self.clob_conn_id)
                cursor = (cp["resume_cursor"] if cp else "") or CLOB_START_CURSOR
                normalizer = ClobFillNormalizer(wallet, user_eoa)
                try:
                    for page in api.iter_trade_pages(wallet, start_s, end_s, cursor):
                        writer.add(normalizer.normalize_page(page.rows))
                        progress["pages"] += 1
                        progress["rows_seen"] += len(page.rows)
                        if writer.pending >= batch_size:
                            writer.flush(checkpoint_after(0, page.next_cursor or CLOB_END_CURSOR))
                    writer.flush()
                    writer.wait()
                finally:
                    api.close()
                    writer.close()
                save_checkpoint(0, CLOB_END_CURSOR, done=True)

            # The watermark and the count are measured from the table after the inserts, so a
            # retry that skipped already-stored rows still records the truth.
            fills_total, newest_ms = ch.query_file("fills/wallet_fill_stats.sql", {"fills_table": fills_table, "wallet": wallet})[
                0
            ]
            new_watermark_ms = max(old_watermark_ms or 0, newest_ms or 0)
            if self.fills_table is None and self._live_fills_table(ch, check_pause=False) != fills_table:
                raise AirflowException(
                    f"wallet {wallet}: the live fills table changed from {fills_table} while this task ran (a promotion "
                    "or rollback). Its rows may be in the table that is no longer live; the retry reloads from the "
                    "new live table's watermark, so nothing is lost."
                )
            ch.run_sql_file(
                "state/write_sync_state.sql",
                {
                    "wallet": wallet,
                    "source": source,
                    "table_uuid": table_uuid,
                    "fills_table": fills_table,
                    "last_fill_ms": new_watermark_ms,
                    "fills_total": fills_total,
                    "run_id": run_id,
                },
            )

        stats = api.stats
        summary = {
            "wallet": wallet,
            "fills_table": fills_table,
            "source": source,
            "pages": progress["pages"],
            "rows_seen": progress["rows_seen"],
            "rows_inserted": writer.rows_inserted,
            "rows_already_stored": writer.rows_skipped,
            "fills_total": fills_total,
            "watermark_from": _utc(old_watermark_ms),
            "watermark_to": _utc(new_watermark_ms),
            "requests": stats.requests,
            "seconds": round(time.monotonic() - started, 2),
        }
        self.log.info(
            "wallet %s: table=%s source=%s window=%s..%s pages=%d requests=%d (retries=%d, throttled %.1fs) rows_seen=%d "
            "inserted=%d already_stored=%d fills_total=%d watermark %s -> %s in %.2fs",
            wallet,
            fills_table,
            source,
            _utc(start_s * 1000),
            _utc(end_s * 1000),
            progress["pages"],
            stats.requests,
            stats.retries,
            stats.throttled_s,
            progress["rows_seen"],
            writer.rows_inserted,
            writer.rows_skipped,
            fills_total,
            summary["watermark_from"],
            summary["watermark_to"],
            summary["seconds"],
        )
        return summary
