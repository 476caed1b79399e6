"""Operator: resolve a batch of addresses to the wallets they trade from (Gamma + CREATE2 + Data API)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from airflow.sdk import BaseOperator

from clob_pipeline.config import DATA_API_CONN_ID, GAMMA_CONN_ID
from clob_pipeline.fills.pagers import ForeignRowsError
from clob_pipeline.hooks.polymarket import PolymarketDataApiHook, PolymarketGammaHook
from clob_pipeline.proxy.resolve import AddressResolution, ResolutionError, resolve_address


class ResolveProxyWalletsOperator(BaseOperator):
    """Resolve each address of ``wallets`` to every wallet it trades from; return the resolutions
    (one per wallet, several per address possible) and failures (small, via XCom).

    Writes nothing: the DAG's store task upserts the results, so a failed lookup can never delete
    or overwrite a known mapping. Logs every proxy-separated wallet as ``wallet -> proxy``, and warns
    for every address resolved while Gamma failed (``gamma_failed``: resolved from the probes only;
    the next run looks it up again).

    Each address costs one Gamma request and 4-5 has-trades probes, so addresses are resolved
    concurrently (the Data API connection's ``max_in_flight``); the hooks' shared limiters keep
    the requests inside the published budgets.

    :param wallets: lower-case addresses (templated).
    """

    template_fields: Sequence[str] = ("wallets",)
    ui_color = "#e8dcff"

    def __init__(
        self,
        *,
        wallets: list[str],
        gamma_conn_id: str = GAMMA_CONN_ID,
        data_api_conn_id: str = DATA_API_CONN_ID,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.wallets = wallets
        self.gamma_conn_id = gamma_conn_id
        self.data_api_conn_id = data_api_conn_id

    def execute(self, context: Any) -> dict[str, Any]:
        started = time.monotonic()
        gamma = PolymarketGammaHook(self.gamma_conn_id)
        data_api = PolymarketDataApiHook(self.data_api_conn_id)
        has_trades = data_api.has_trades  # Data API v2, one row of all history

        def resolve(address: str) -> AddressResolution | ResolutionError:
            try:
                return resolve_address(address, gamma.get_public_profile, has_trades)
            except (ResolutionError, ForeignRowsError) as err:  # the API answered for another wallet: this one fails
                return ResolutionError(str(err))

        workers = max(1, min(len(self.wallets), data_api.max_in_flight))
        try:
            with ThreadPoolExecutor(workers, thread_name_prefix="resolve") as pool:
                outcomes = list(pool.map(resolve, self.wallets))  # a probe that failed for good fails the task
        finally:
            gamma.close()
            data_api.close()
        resolved: list[dict[str, str]] = []
        failed: list[dict[str, str]] = []
        not_found: list[str] = []
        gamma_failed: list[str] = []
        for address, outcome in zip(self.wallets, outcomes, strict=True):
            if isinstance(outcome, ResolutionError):
                self.log.error("could not resolve %s: %s", address, outcome)
                failed.append({"wallet": address, "error": str(outcome)[:300]})
                continue
            wallets, gamma_error = outcome
            if gamma_error:
                self.log.warning(
                    "Gamma lookup of %s failed: resolved from the has-trades probes only (%s), without the wallet "
                    "Gamma may name; this task goes on and the next run looks it up again. Gamma's error: %s",
                    address,
                    ", ".join(r.proxy_wallet for r in wallets),
                    gamma_error[:300],
                )
                gamma_failed.append(address)
            if not wallets:
                not_found.append(address)
            for r in wallets:
                if r.proxy_separated:
                    self.log.info("proxy-separated: %s -> %s (%s, by %s)", address, r.proxy_wallet, r.wallet_type, r.resolved_by)
                resolved.append(
                    {
                        "user_eoa": r.user_eoa,
                        "proxy_wallet": r.proxy_wallet,
                        "wallet_type": r.wallet_type,
                        "resolved_by": r.resolved_by,
                    }
                )
            if len(wallets) > 1:
                self.log.info("%s trades from %d wallets: %s", address, len(wallets), ", ".join(r.proxy_wallet for r in wallets))
        separated = sum(r["proxy_wallet"] != r["user_eoa"] for r in resolved)
        several = sum(isinstance(o, AddressResolution) and len(o.wallets) > 1 for o in outcomes)
        requests = gamma.stats.requests + data_api.stats.requests
        self.log.info(
            "looked up %d addresses: %d wallets (proxy-separated=%d direct=%d), %d addresses with several wallets, "
            "no-activity=%d failed=%d gamma_failed=%d; requests gamma=%d data_api=%d (%.1f per address, %d at once); %.2fs",
            len(self.wallets),
            len(resolved),
            separated,
            len(resolved) - separated,
            several,
            len(not_found),
            len(failed),
            len(gamma_failed),
            gamma.stats.requests,
            data_api.stats.requests,
            requests / max(1, len(self.wallets)),
            workers,
            time.monotonic() - started,
        )
        return {
            "resolved": resolved,
            "failed": failed,
            "not_found": not_found,
            "gamma_failed": gamma_failed,
            "requests": requests,
        }
