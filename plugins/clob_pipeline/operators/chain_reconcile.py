"""Reconcile a fills table against the chain: scan its wallets' finalized blocks into the witness,
compare per wallet and day in ClickHouse (``include/sql/reconcile/compute.sql``), store the numbers
in ``clob_reconciliation`` and log the verdict first.

One operator for two uses: the ``clob_reconcile`` DAG (manual, optionally scheduled) and the
promotion's ``check_chain_reconciliation`` (staging before a swap). Without a ``polygon_rpc``
connection there is nothing to compare with: the DAG's task skips, the promotion check passes, and
both say so in the log's first line.

The window is ``days`` complete UTC days ending before today and before the finalized block's day;
a wallet's days after its last load into the table are left out (``compute.sql``). It must lie
inside the history the table was loaded with (the backfill's lookback): a day the table was not
loaded from its start reads as fills the API is missing.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowException, AirflowFailException, AirflowSkipException

from clob_pipeline.config import (
    CLICKHOUSE_CONN_ID,
    POLYGON_RPC_CONN_ID,
    PRODUCTION_FILLS_TABLE,
    RECONCILIATION_TABLE,
    STAGING_FILLS_TABLE,
)
from clob_pipeline.errors import NotRetryableError, is_retryable
from clob_pipeline.fills.params import ParamError, normalize_wallets
from clob_pipeline.reconcile.verdict import day_line, summarize

TARGETS = {"staging": STAGING_FILLS_TABLE, "production": PRODUCTION_FILLS_TABLE}
V2_SOURCES = ("data_api_v2",)  # sources that never serve fills below V2_MIN_SIZE (shared/polymarket-api.md §3.6)
V2_MIN_SIZE = "0.01"
DAY_S = 86_400


class ReconciliationError(NotRetryableError, AirflowFailException):
    """Wallets are off the chain beyond the tolerance: the data will not fix itself."""


def validate_reconcile_params(target: Any, days: Any, tolerance: Any) -> tuple[str, int, int]:
    """The Params, or a ParamError naming the field, the rule and the value (before anything is read)."""
    if target not in TARGETS:
        raise ParamError(f"Param 'target' must be one of {sorted(TARGETS)}; got {target!r}.")
    try:
        days_i, tolerance_i = int(days), int(tolerance)
    except (TypeError, ValueError):
        raise ParamError(f"Params 'days' and 'tolerance' must be integers; got {days!r}, {tolerance!r}.") from None
    if not 1 <= days_i <= 3650:
        raise ParamError(f"Param 'days' must be between 1 and 3650; got {days!r}.")
    if tolerance_i < 0:
        raise ParamError(f"Param 'tolerance' must be >= 0 (fills a wallet may be off); got {tolerance!r}.")
    return target, days_i, tolerance_i


WALLETS_PER_QUERY = 100  # the comparison's hash tables grow with the wallets of one statement (bench: ~1 GB for 1,000)
# How far a row's own time may lie from its block's: CLOB rows carry match_time (shared/polymarket-api.md §1.4),
# seconds (a retried trade: longer) before the block; both sides are read this much wider than the window.
MATCH_MARGIN_S = DAY_S


def run_reconciliation(
    ch: Any, run_key: str, fills_table: str, wallets: list[str], start_s: int, end_s: int, usdc_epsilon: str = "0.01"
) -> list[dict[str, Any]]:
    """Compare ``wallets`` of ``fills_table`` with the witness over the whole UTC days ``[start_s, end_s)`` in
    ClickHouse, ``WALLETS_PER_QUERY`` wallets per statement; store the rows under ``run_key`` and return them."""
    for i in range(0, len(wallets), WALLETS_PER_QUERY):
        ch.run_sql_file(
            "reconcile/compute.sql",
            {"run_id": run_key, "fills_table": fills_table, "wallets": wallets[i : i + WALLETS_PER_QUERY],
             "start_ms": start_s * 1000, "end_ms": end_s * 1000, "margin_ms": MATCH_MARGIN_S * 1000,
             "v2_sources": list(V2_SOURCES), "v2_min_size": V2_MIN_SIZE, "usdc_epsilon": usdc_epsilon},
        )  # fmt: skip
    return ch.query_file_dicts("reconcile/run_rows.sql", {"run_id": run_key})


def window(days: int, now_s: int, finalized_s: int) -> tuple[int, int]:
    """``days`` complete UTC days ending before today and before the finalized block's day: [start, end)."""
    end = min(now_s // DAY_S, finalized_s // DAY_S) * DAY_S
    return end - days * DAY_S, end


class ChainReconcileOperator(BaseOperator):
    """Scan, compare, store and judge one fills table against the chain (see the module docstring).

    :param target: ``staging`` (``clob_fills_v2``) or ``production`` (``clob_fills``) (templated).
    :param days: complete UTC days to compare, ending yesterday (templated).
    :param tolerance: fills a wallet may be off before the task fails (templated; 0 = any).
    :param wallets: only these wallets (templated); empty = every wallet the table holds or was loaded for.
    :param when_no_connection: ``skip`` (the task skips) or ``pass`` (it succeeds) without ``polygon_rpc``.
    :param usdc_epsilon: collateral difference a matched trade may have (the API rounds prices).
    """

    template_fields: Sequence[str] = ("target", "days", "tolerance", "wallets")
    ui_color = "#fff3e0"

    def __init__(
        self,
        *,
        target: str = "staging",
        days: int | str = 7,
        tolerance: int | str = 0,
        wallets: list[str] | None = None,
        when_no_connection: str = "skip",
        usdc_epsilon: str = "0.01",
        clickhouse_conn_id: str = CLICKHOUSE_CONN_ID,
        polygon_rpc_conn_id: str = POLYGON_RPC_CONN_ID,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if when_no_connection not in ("skip", "pass"):
            raise ValueError(f"when_no_connection must be skip or pass; got {when_no_connection!r}")
        self.target, self.days, self.tolerance, self.wallets = target, days, tolerance, wallets
        self.when_no_connection, self.usdc_epsilon = when_no_connection, usdc_epsilon
        self.clickhouse_conn_id, self.polygon_rpc_conn_id = clickhouse_conn_id, polygon_rpc_conn_id

    def _has_connection(self) -> bool:
        from airflow.sdk.exceptions import AirflowNotFoundException

        from clob_pipeline.hooks.polygon_rpc import PolygonRpcHook

        try:
            PolygonRpcHook.get_connection(self.polygon_rpc_conn_id)
        except AirflowNotFoundException:
            return False
        return True

    def execute(self, context: Any) -> dict[str, Any]:
        from clob_pipeline.hooks.chain_source import ChainSourceHook
        from clob_pipeline.hooks.clickhouse import ClickHouseHook

        started = time.monotonic()
        target, days, tolerance = validate_reconcile_params(self.target, self.days, self.tolerance)
        wallets = normalize_wallets(self.wallets or [])
        fills_table = TARGETS[target]
        if not self._has_connection():
            message = (
                f"SKIPPED: reconciliation of {fills_table} against the chain did not run: no {self.polygon_rpc_conn_id} "
                f"connection. Set AIRFLOW_CONN_{self.polygon_rpc_conn_id.upper()} (a Polygon JSON-RPC URL) to check it."
            )
            if self.when_no_connection == "pass":
                self.log.warning("%s", message)
                return {"skipped": True}
            raise AirflowSkipException(message)
        run_key = f"{context['run_id']}:{self.task_id}:{context['ti'].try_number}"
        with ClickHouseHook(self.clickhouse_conn_id) as ch:
            if not ch.query_file("promotion/table_uuids.sql", {"names": [fills_table]}):
                raise AirflowFailException(f"{ch.bundle_database}.{fills_table} does not exist: nothing to reconcile")
            wallets = wallets or [w for (w,) in ch.query_file("reconcile/table_wallets.sql", {"fills_table": fills_table})]
            if not wallets:
                self.log.info("reconciliation of %s: it holds no wallets; nothing to compare", fills_table)
                return {"wallets": 0}
            source = ChainSourceHook(self.polygon_rpc_conn_id, self.clickhouse_conn_id, run_id=run_key)
            try:
                start_s, end_s = window(days, int(time.time()), source.finalized_point()[1])
                results, failures = source.scan_wallets(wallets, start_s)
                requests = source.stats.requests
            finally:
                source.close()
            self._fail_on_scan_errors(failures, len(wallets))
            rows = run_reconciliation(ch, run_key, fills_table, wallets, start_s, end_s, self.usdc_epsilon)
        verdict = summarize(rows, wallets, tolerance)
        last_day = time.strftime("%Y-%m-%d", time.gmtime(end_s - 1))
        headline = f"reconciliation of {fills_table} against the chain, {days} day(s) to {last_day}: {verdict.headline()}"
        (self.log.error if verdict.blocking else self.log.info)("%s", headline)
        for wallet in verdict.wallets:
            if wallet.off or wallet.not_served:
                self.log.warning("%s", wallet.describe())
        for row in rows:
            if row["mismatched"] or row["api_only_rows"] or row["chain_only_fills"]:
                self.log.warning("day %s", day_line(row))
        blocks = sum(hi - lo + 1 for r in results.values() for lo, hi in r.scanned)
        self.log.info(
            "reconciled %d wallets, %d wallet-days into %s (run %s): %d complete, %d off beyond tolerance %d; scanned %d new "
            "blocks in %d RPC requests; %.1fs",
            len(wallets), len(rows), RECONCILIATION_TABLE, run_key, len(verdict.complete), len(verdict.blocking), tolerance,
            blocks, requests, time.monotonic() - started,
        )  # fmt: skip
        if verdict.blocking:
            raise ReconciliationError(
                f"{headline}. {len(verdict.blocking)} wallet(s) are off the chain by more than {tolerance} fill(s). The "
                f"numbers are in {RECONCILIATION_TABLE} (run_id {run_key!r}). Reload the named wallets over those days "
                "(clob_backfill), or load them from the chain (source=chain), then check again."
            )
        return {"wallets": len(wallets), "complete": len(verdict.complete), "off": sum(w.off > 0 for w in verdict.wallets)}

    def _fail_on_scan_errors(self, failures: dict[str, BaseException], total: int) -> None:
        if not failures:
            return
        detail = "; ".join(f"{w}: {type(e).__name__}: {str(e)[:300]}" for w, e in list(failures.items())[:10])
        message = (
            f"the chain scan failed for {len(failures)} of {total} wallets ({detail}); nothing was reconciled, because a "
            "wallet without its chain side would read as fills the API has and the chain does not."
        )
        if any(is_retryable(e) for e in failures.values()):
            raise AirflowException(message + " Retried by Airflow.")
        raise AirflowFailException(message + " Fix the cause named above, then trigger again.")


def promotion_reconciliation_check(pool: str) -> ChainReconcileOperator:
    """``check_chain_reconciliation`` of ``clob_promotion``: staging against the chain over the
    ``reconcile_days`` Param, blocking beyond ``reconcile_tolerance``; passes, saying so, without ``polygon_rpc``
    (a skipped check would skip the swap)."""
    return ChainReconcileOperator(
        task_id="check_chain_reconciliation",
        target="staging",
        days="{{ params.reconcile_days }}",
        tolerance="{{ params.reconcile_tolerance }}",
        when_no_connection="pass",
        pool=pool,
    )
