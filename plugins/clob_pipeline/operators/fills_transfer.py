"""The load task of ``clob_backfill`` and ``clob_incremental``: a batch of wallets' fills from one source
into a ClickHouse fills table."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowException, AirflowFailException

from clob_pipeline.config import CLICKHOUSE_CONN_ID, CLOB_CONN_ID, DATA_API_CONN_ID, POLYGON_RPC_CONN_ID, batch_rows
from clob_pipeline.errors import NotRetryableError, is_retryable
from clob_pipeline.fills.load_timeout import load_timeout
from clob_pipeline.fills.params import DEFAULT_SOURCE, ParamError, normalize_wallet, validate_source
from clob_pipeline.fills.source_rule import refuse_mixed_sources
from clob_pipeline.hooks.clickhouse import ClickHouseHook
from clob_pipeline.hooks.polymarket import PolymarketHook
from clob_pipeline.operators.fill_sources import SOURCES, FillSource
from clob_pipeline.operators.load_window import LoadWindow, WalletState, window_policy
from clob_pipeline.operators.wallet_load import LoadOutcome, WalletLoad, run_loads


class PermanentWalletFailuresError(NotRetryableError, AirflowException):
    """Every failed wallet of a batch failed for a reason a retry cannot fix (e.g. a CLOB 401)."""


class PolymarketFillsToClickHouseOperator(BaseOperator):
    """Load a batch of wallets' fills from one source into a ClickHouse fills table.

    The wallets' pagers (``fills/pagers.py``) run concurrently within the source's rate budget
    (``fills/fetch_driver.py``); one thread writes: each wallet's whole seconds go to its ``WalletLoad``
    (normalise, give fill ids, buffered idempotent insert, a checkpoint after every stored batch, the
    ledger and a closing line at its end). The window policy (``load_window.py``) picks the table and
    each wallet's first second. A failing wallet does not stop the others; the task then fails naming
    it, and its retry re-runs only the wallets not checkpointed as done. Nothing goes through XCom but
    the batch summary. ``execution_timeout`` defaults to a bound derived from the work
    (``fills/load_timeout.py``).

    :param wallets: ``[{"wallet": ..., "user_eoa": ...}]``; an empty ``user_eoa`` = the wallet trades
        directly (templated; every address is checked before anything is written).
    :param window: the window policy's spec (templated): ``{"policy": "fixed", "start_s", "end_s"}``
        or ``{"policy": "since_watermark", "end_s", "overlap_s", "lookback_s"}``.
    :param source: a name in ``fills/params.SOURCES`` (``operators/fill_sources.py``): ``data_api_v2``
        (default), ``data_api_v1``, ``clob``, ``chain``; ``data_api`` = the default Data API (templated).
    """

    template_fields: Sequence[str] = ("wallets", "window", "source")
    ui_color = "#d6ecff"

    def __init__(
        self,
        *,
        wallets: list[dict[str, str]],
        window: dict[str, Any],
        source: str = DEFAULT_SOURCE,
        batch_rows: int | None = None,
        clickhouse_conn_id: str = CLICKHOUSE_CONN_ID,
        data_api_conn_id: str = DATA_API_CONN_ID,
        clob_conn_id: str = CLOB_CONN_ID,
        polygon_rpc_conn_id: str = POLYGON_RPC_CONN_ID,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.wallets, self.window, self.source, self.batch_rows = wallets, window, source, batch_rows
        self.clickhouse_conn_id, self.data_api_conn_id, self.clob_conn_id = clickhouse_conn_id, data_api_conn_id, clob_conn_id
        self.polygon_rpc_conn_id = polygon_rpc_conn_id
        if self.execution_timeout is None:
            self.execution_timeout = self._derived_timeout()

    @property
    def label(self) -> str:
        """What this task loads, for the mapped-task label."""
        first = str(self.wallets[0].get("wallet", "?")) if isinstance(self.wallets, list) and self.wallets else "?"
        return f"{first[:10]}… +{len(self.wallets) - 1} wallets" if len(self.wallets) > 1 else first

    def execute(self, context: Any) -> dict[str, Any]:
        from clob_pipeline.fills.fetch_driver import FetchDriver  # run time only
        from clob_pipeline.operators.fill_writer import gc_paused

        started = time.monotonic()
        targets, policy, source = self._targets(), window_policy(self.window), SOURCES[validate_source(self.source)]
        with ClickHouseHook(self.clickhouse_conn_id) as ch, gc_paused():
            fills_table = policy.target(ch, self.label)  # the live table for the incremental (skips while paused)
            api = source.hook(getattr(self, source.conn_param))
            try:
                loads = self._wallet_loads(ch, api, context["run_id"], source, policy, fills_table, targets)
                outcome = run_loads(FetchDriver(api, max_in_flight=api.max_in_flight), loads, self.log)
            finally:
                api.close()
            policy.confirm_target(ch, fills_table)  # a promotion did not move the table under us
        done_before = [w for w, _ in targets if w not in loads]
        return self._closing(targets, fills_table, outcome, done_before, time.monotonic() - started)

    def _derived_timeout(self) -> timedelta | None:
        """The task's bound from its wallets, longest window and the source's published budget; None
        while those are still templates (a mapped task gets them resolved before this)."""
        try:
            policy, source = window_policy(self.window), SOURCES[validate_source(self.source)]
        except ParamError:
            return None
        wallets = len(self.wallets) if isinstance(self.wallets, list) else 1
        return load_timeout(wallets, policy.longest_s, source.budget_per_s)

    def _targets(self) -> list[tuple[str, str]]:
        """(wallet, user_eoa) pairs, validated before anything is written (ParamError names the value)."""
        if not isinstance(self.wallets, list) or not self.wallets:
            raise ParamError(f"'wallets' must be a non-empty list of {{wallet, user_eoa}}; got {self.wallets!r}")
        targets = []
        for item in self.wallets:
            wallet = normalize_wallet(item.get("wallet", "") if isinstance(item, dict) else item)
            eoa = item.get("user_eoa") or "" if isinstance(item, dict) else ""
            targets.append((wallet, normalize_wallet(eoa, "user_eoa") if eoa else wallet))
        return targets

    def _wallet_loads(
        self,
        ch: ClickHouseHook,
        api: PolymarketHook,
        run_id: str,
        source: FillSource,
        policy: LoadWindow,
        fills_table: str,
        targets: list[tuple[str, str]],
    ) -> dict[str, WalletLoad]:
        """A ``WalletLoad`` per wallet not yet done in this run: its pager starts at the run's
        checkpoint, else at the window's end; the policy says where its window starts."""
        from clob_pipeline.operators.fill_writer import FillBatchWriter  # pyarrow: run time only

        table_uuid = self._table_uuid(ch, fills_table)
        wallets = [w for w, _ in targets]
        refuse_mixed_sources(ch, fills_table, source.name, wallets)  # chain vs API fills: never both (source_rule.py)
        state_query = {"run_id": run_id, "source": source.name, "wallets": wallets}
        checkpoints = {row["wallet"]: row for row in ch.query_file_dicts("state/read_checkpoints.sql", state_query)}
        fill_stats = ch.query_file("fills/wallets_fill_stats.sql", {"fills_table": fills_table, "wallets": wallets})
        stored = {wallet: (count, newest_ms) for wallet, count, newest_ms in fill_stats}
        ledger_rows = ch.query_file("state/wallet_ledger.sql", {"table_uuid": table_uuid, "wallets": wallets})
        ledger = {wallet: (hold_ms, synced_ms) for wallet, hold_ms, synced_ms in ledger_rows}  # last completed loads
        make_pager = source.pagers(api)
        loads = {}
        for wallet, user_eoa in targets:
            cp = checkpoints.get(wallet)
            if cp and cp["done"]:
                self.log.info("wallet %s already loaded in run %s (%d rows inserted then)", wallet, run_id, cp["rows_inserted"])
                continue
            if cp:
                self.log.info("resuming wallet %s from checkpoint: %s", wallet, dict(cp))
            count, newest_ms = stored.get(wallet, (0, None))
            state = WalletState(count, newest_ms if count else None, *ledger.get(wallet, (0, 0)))
            start_s = policy.start_for(state)
            loads[wallet] = WalletLoad(
                ch=ch,
                log=self.log,
                run_id=run_id,
                source=source.name,
                fills_table=fills_table,
                table_uuid=table_uuid,
                wallet=wallet,
                pager=make_pager(wallet, start_s, cp["resume_end_s"] if cp else policy.end_s),
                normalizer=source.normalizer(wallet, user_eoa),
                writer=FillBatchWriter(ch, fills_table, wallet, newest_ms if count else 0),
                checkpoint=cp,
                stored=(count, newest_ms),
                window=(start_s, policy.end_s),
                hold_before_ms=state.hold_ms,
                batch_rows=self.batch_rows or batch_rows(),
                note=source.note,
            )
        return loads

    @staticmethod
    def _table_uuid(ch: ClickHouseHook, fills_table: str) -> str:
        table_uuid = dict(ch.query_file("promotion/table_uuids.sql", {"names": [fills_table]})).get(fills_table)
        if not table_uuid:
            raise AirflowFailException(
                f"fills table {ch.bundle_database}.{fills_table} does not exist; run the DAG's ensure_schema task first"
            )
        return table_uuid

    def _closing(
        self,
        targets: list[tuple[str, str]],
        fills_table: str,
        outcome: LoadOutcome,
        done_before: list[str],
        seconds: float,
    ) -> dict[str, Any]:
        """The task's closing line and summary; fails naming the wallets that failed."""
        summaries, failed = outcome
        totals = {k: sum(s[k] for s in summaries) for k in ("pages", "requests", "rows_seen", "rows_inserted")}
        self.log.info(
            "batch of %d wallets into %s: done=%d done_before=%d failed=%d pages=%d requests=%d rows_seen=%d "
            "inserted=%d in %.2fs",
            len(targets),
            fills_table,
            len(summaries),
            len(done_before),
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
