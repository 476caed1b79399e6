"""Buffered, idempotent writer of one wallet's fills into a ClickHouse fills table (Arrow batches).

Why it looks up existing fill ids before inserting: ReplacingMergeTree removes duplicates only at
merge time, so a repeated or retried run would leave duplicate rows until a merge. The writer asks
which of the batch's fill ids the wallet already has in the batch's time range (one small query
per batch) and inserts only fills that are new or carry a higher ``version``. A repeated run then
leaves the table exactly as a single clean run would; the engine's dedup remains the safety net
for two writers racing on one wallet.

A batch entirely newer than the wallet's newest stored fill at the start of the load skips the
lookup: nothing can be stored there yet (a fresh backfill, an incremental's new fills).

The same lookup tells the writer how many fill ids it added and the newest timestamp it stored,
so the loader can update the wallet's count without a second ``FINAL`` scan of the wallet.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc

from clob_pipeline.fills.arrow import latest_per_fill_id, only_new_versions, with_ingested_at

if TYPE_CHECKING:
    from clob_pipeline.hooks.clickhouse import ClickHouseHook


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while fills stream through.

    Fills and pages hold no reference cycles, so reference counting frees them as batches are
    flushed; the collector's passes over hundreds of thousands of young tuples were measured at
    about half of the normalise + Arrow-build time. The writer runs a young-generation pass after
    each stored batch (for cycles other code leaves behind); full collection resumes afterwards.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class FillBatchWriter:
    """Collects Arrow fill batches (one per handed-over response) and inserts them in larger batches,
    skipping fills already stored.

    It stores on the caller's thread: a task's wallets share one ClickHouse client (chDB's is not
    thread-safe), and the one writing thread is the fetch driver's consumer. ``flush`` returns once
    the batch is in the table, so whoever checkpoints after it (``WalletLoad``) never claims a batch
    that failed.
    """

    def __init__(self, ch: ClickHouseHook, table: str, wallet: str, newest_stored_ms: int | None = None) -> None:
        """``newest_stored_ms``: the wallet's newest fill in ``table`` when the load started (0 = none); a
        batch entirely newer than it needs no lookup (only loads that started later could have stored
        those fills: the race the README describes, which the engine's dedup settles). None = unknown:
        every batch is looked up."""
        self.ch, self.table, self.wallet, self.newest_stored_ms = ch, table, wallet, newest_stored_ms
        self._pages: list[pa.Table] = []
        self._pending = 0
        self.rows_inserted = 0
        self.rows_skipped = 0
        # fill ids the table did not have before (newer versions of stored fills are not counted)
        self.ids_added = 0
        # newest fill timestamp (ms) of every stored batch, inserted or already there; None if none
        self.newest_ms: int | None = None

    @property
    def pending(self) -> int:
        """Rows buffered and not yet stored."""
        return self._pending

    def add(self, page: pa.Table) -> None:
        """Buffer one page's fills (``fills/columnar.page_table``; any ``ingested_at``)."""
        if page.num_rows:
            self._pages.append(page)
            self._pending += page.num_rows

    def flush(self) -> None:
        """Store the buffered fills; returns once they are in the table (raises if the insert failed)."""
        pages, self._pages, self._pending = self._pages, [], 0
        self._store(pages)

    def _store(self, pages: list[pa.Table]) -> None:
        if pages:
            batch = latest_per_fill_id(pa.concat_tables(pages))
            bounds = pc.min_max(batch["timestamp"].cast(pa.int64()))
            lo_ms, hi_ms = bounds["min"].as_py(), bounds["max"].as_py()
            stored = []
            if self.newest_stored_ms is None or lo_ms <= self.newest_stored_ms:
                stored = self.ch.query_file(
                    "fills/existing_versions.sql",
                    {"fills_table": self.table, "wallet": self.wallet, "lo_ms": lo_ms, "hi_ms": hi_ms},
                )
            new, new_ids = only_new_versions(batch, stored)
            if new.num_rows:
                self.ch.insert_arrow(self.table, with_ingested_at(new, int(time.time() * 1000)))
            self.rows_inserted += new.num_rows
            self.rows_skipped += batch.num_rows - new.num_rows
            self.ids_added += new_ids
            self.newest_ms = hi_ms if self.newest_ms is None else max(self.newest_ms, hi_ms)
        # With the collector paused, reference cycles left by HTTP responses would pile up for the
        # whole task; a young-generation pass per batch frees them at a bounded, small cost.
        gc.collect(1)
