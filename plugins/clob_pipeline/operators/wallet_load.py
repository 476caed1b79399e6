"""One wallet's load inside a load task (its pager, normaliser, writer, checkpoints and ledger), and the
loop that runs a batch of them.

Why a class of its own: a task loads several wallets at once (their requests run concurrently in
``fills/fetch_driver.py``), and the one thread that writes to ClickHouse hands each wallet's responses
to that wallet's ``WalletLoad``. Everything here runs on that thread; the load writes its own
checkpoint after each batch its writer stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import closing
from typing import Any, NamedTuple

from clob_pipeline.fills.fetch_driver import FetchDriver, WalletEnd
from clob_pipeline.fills.pagers import Fed, Pager, PagingError
from clob_pipeline.hooks.clickhouse import ClickHouseHook
from clob_pipeline.operators.load_progress import LoadProgress, utc


class LoadOutcome(NamedTuple):
    """What a batch of wallets' loads came to: one summary per finished wallet, the failed ones' errors."""

    summaries: list[dict[str, Any]]
    failed: dict[str, BaseException]


def run_loads(driver: FetchDriver, loads: Mapping[str, WalletLoad], log: Any) -> LoadOutcome:
    """Fetch every wallet's pages concurrently and hand them, in order, to its load on this thread.

    A wallet whose fetch or store fails is reported and the others go on (its load keeps what it
    stored: whole seconds, checkpointed)."""
    summaries: list[dict[str, Any]] = []
    failed: dict[str, BaseException] = {}
    try:
        pagers = {wallet: load.pager for wallet, load in loads.items()}
        with closing(driver.run(pagers, lambda wallet, fed: loads[wallet].prepare(fed))) as events:
            for event in events:
                if event.wallet in failed:
                    continue  # its store failed earlier; the other wallets go on
                load = loads[event.wallet]
                try:
                    if isinstance(event, WalletEnd):
                        summaries.append(load.finish(event.requests, event.limiter_wait_s, event.error))
                    else:
                        load.take(event.fed)
                except Exception as exc:
                    log.error("wallet %s failed: %s; the other wallets of this task go on", event.wallet, exc)
                    failed[event.wallet] = exc
    finally:
        log.info("fetch: %s", driver.stats.summary())
    return LoadOutcome(summaries, failed)


class Prepared(NamedTuple):
    """One response's whole seconds as a fills batch with ids, ready to store."""

    table: Any  # pyarrow.Table
    rows: int
    resume: int


class WalletLoad:
    """Feeds one wallet's handed-over seconds to its writer; checkpoints each stored batch.

    ``prepare`` (normalise and give ids) runs on the wallet's fetching thread, ``take`` and
    ``finish`` (store, checkpoint, ledger) on the one writing thread: the two overlap.
    """

    def __init__(
        self,
        *,
        ch: ClickHouseHook,
        log: Any,
        run_id: str,
        source: str,
        fills_table: str,
        table_uuid: str,
        wallet: str,
        pager: Pager,
        normalizer: Any,
        writer: Any,
        checkpoint: Mapping[str, Any] | None,
        stored: tuple[int, int | None],
        window: tuple[int, int],
        hold_before_ms: int = 0,
        batch_rows: int,
        note: str = "",
    ) -> None:
        self.ch, self.log, self.run_id, self.source = ch, log, run_id, source
        self.fills_table, self.table_uuid, self.wallet = fills_table, table_uuid, wallet
        self.pager, self.normalizer, self.writer = pager, normalizer, writer
        self.stored, self.window, self.batch_rows, self.note = stored, window, batch_rows, note
        self.hold_before_ms = hold_before_ms
        self.progress = LoadProgress(log, wallet, checkpoint)

    def prepare(self, fed: Fed) -> Prepared:
        """The response's rows as a fills batch (every row validated, ids given); no I/O."""
        from clob_pipeline.fills.columnar import page_table  # pyarrow: run time only

        return Prepared(page_table(self.normalizer, fed.rows) if fed.rows else None, len(fed.rows), fed.resume)

    def take(self, page: Prepared) -> None:
        """One prepared response: buffer it; once a batch is full, store it and checkpoint."""
        if page.table is not None:
            self.writer.add(page.table)
        self.progress.page(page.rows, page.resume)
        if self.writer.pending >= self.batch_rows:
            self.writer.flush()
            self._checkpoint(page.resume, done=False)

    def finish(self, requests: int, limiter_wait_s: float, error: BaseException | None) -> dict[str, Any]:
        """The pager ended: store the rest, checkpoint, write the ledger and the closing line; or, on
        ``error``, store the whole seconds handed over before it and raise it with the wallet's numbers."""
        if error is None:
            self.writer.flush()
            self._checkpoint(self.window[0] - 1, done=True)
            return self._record_sync_state(requests, limiter_wait_s)
        if isinstance(error, PagingError):
            self.writer.flush()
            raise PagingError(f"{error} [{self.progress.describe(self.writer)}]") from error
        self.log.error("wallet %s stopped at %s: %s", self.wallet, self.pager.position(), error)
        raise error

    def _checkpoint(self, resume_s: int, done: bool) -> None:
        """Record that everything newer than ``resume_s`` is stored (a retry of the task resumes there)."""
        self.ch.run_sql_file(
            "state/write_checkpoint.sql",
            {
                "run_id": self.run_id,
                "wallet": self.wallet,
                "source": self.source,
                "resume_end_s": resume_s,
                "pages": self.progress.total_pages,
                "rows_seen": self.progress.total_rows,
                "rows_inserted": self.progress.base_inserted + self.writer.rows_inserted,
                "done": int(done),
            },
        )

    def _hold_after(self) -> int:
        """The oldest held-back trade to record (ms, 0 = none): this load's own, and an earlier one
        this completed load did not cover (outside its window).

        A load whose window covers the earlier hold clears it: a CLOB load re-read the trade (held again
        by its normaliser if still unsettled), and a source of settled fills only (the Data API) served it
        if it settled since; one still unsettled reaches such a source only once settled, at its block time,
        like any new fill. Without this, a wallet loaded through the Data API after one CLOB load would keep
        the incremental re-reading from that old hold for ever."""
        earlier, normalizer = self.hold_before_ms, self.normalizer
        covers = normalizer.can_hold_back or normalizer.settled_only
        if earlier and covers and earlier >= self.window[0] * 1000:
            earlier = 0
        return min((ms for ms in (normalizer.held_from_ms, earlier) if ms), default=0)

    def _record_sync_state(self, requests: int, limiter_wait_s: float) -> dict[str, Any]:
        """Write the wallet's ledger row and log its one-line result.

        The count is the one measured (FINAL) when the task started plus the fill ids the writer
        found missing and inserted; a retry measures again and skips what is stored, so it records
        the truth too, without a second FINAL scan of the wallet. Promotion's
        ``counts_match_sync_state`` check compares these counts with the table.
        """
        stored_before, newest_before_ms = self.stored
        writer, progress = self.writer, self.progress
        fills_total = stored_before + writer.ids_added
        old_watermark_ms = newest_before_ms if stored_before else None
        new_watermark_ms = max(newest_before_ms or 0, writer.newest_ms or 0) if fills_total else 0
        hold_ms = self._hold_after()
        self.ch.run_sql_file(
            "state/write_sync_state.sql",
            {
                "wallet": self.wallet,
                "source": self.source,
                "table_uuid": self.table_uuid,
                "fills_table": self.fills_table,
                "last_fill_ms": new_watermark_ms,
                "fills_total": fills_total,
                "run_id": self.run_id,
                "hold_from_ms": hold_ms,
            },
        )
        summary = {
            "wallet": self.wallet,
            "fills_table": self.fills_table,
            "source": self.source,
            "pages": progress.pages,
            "rows_seen": progress.rows,
            "rows_inserted": writer.rows_inserted,
            "rows_already_stored": writer.rows_skipped,
            "held_back": self.normalizer.held_back,
            "fills_total": fills_total,
            "watermark_from": utc(old_watermark_ms),
            "watermark_to": utc(new_watermark_ms),
            "watermarks_moved": int(bool(new_watermark_ms) and new_watermark_ms != old_watermark_ms),
            "requests": requests,
            "seconds": progress.seconds,
        }
        start_s, end_s = self.window
        window = f"{'all history' if start_s <= 1 else utc(start_s * 1000)}..{utc(end_s * 1000)}"
        watermark = f"watermark {summary['watermark_from']} -> {summary['watermark_to']}" if fills_total else "no fills stored"
        if hold_ms:
            watermark += f", held back from {utc(hold_ms)} (read again by the next run until settled)"
        if restarts := getattr(self.pager, "restarts", None):  # why the requests exceed the pages (v2)
            summary["restarts"] = dict(restarts)
            watermark += ", restarts: " + ", ".join(f"{why} x{n}" for why, n in sorted(restarts.items()))
        self.log.info(
            "wallet %s: table=%s source=%s window=%s pages=%d requests=%d (%.1f/s, %.1fs waiting for the rate limit) "
            "fills_seen=%d inserted=%d already_stored=%d held_back=%d failed_trades=%d fills_total=%d %s in %.2fs%s",
            self.wallet,
            self.fills_table,
            self.source,
            window,
            progress.pages,
            requests,
            requests / max(progress.seconds, 1e-3),
            limiter_wait_s,
            progress.rows,
            writer.rows_inserted,
            writer.rows_skipped,
            self.normalizer.held_back,
            self.normalizer.failed,
            fills_total,
            watermark,
            summary["seconds"],
            f"; {self.note}" if self.note else "",
        )
        return summary
