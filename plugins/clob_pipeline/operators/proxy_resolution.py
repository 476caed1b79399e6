"""Operator: resolve a batch of addresses to the wallets they trade from (Gamma + CREATE2 + Data API)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from airflow.sdk import BaseOperator

from clob_pipeline.config import DATA_API_CONN_ID, GAMMA_CONN_ID
from clob_pipeline.fills.pagers import ForeignRowsError
from clob_pipeline.hooks.polymarket import PolymarketDataApiHook, PolymarketGammaHook
from clob_pipeline.proxy.resolve import ResolutionError, resolve_address


class ResolveProxyWalletsOperator(BaseOperator):
    """Resolve each address of ``wallets``; return the resolutions and failures (small, via XCom).

    Writes nothing: the DAG's store task upserts the results, so a failed lookup can never delete
    or overwrite a known mapping. Logs every proxy-separated wallet as ``wallet -> proxy``.

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

        resolved: list[dict[str, str]] = []
        failed: list[dict[str, str]] = []
        not_found: list[str] = []
        try:
            for wallet in self.wallets:
                try:
                    result = resolve_address(wallet, gamma.get_public_profile, has_trades)
                except (ResolutionError, ForeignRowsError) as err:
                    self.log.error("could not resolve %s: %s", wallet, err)
                    failed.append({"wallet": wallet, "error": str(err)[:300]})
                    continue
                if result is None:
                    not_found.append(wallet)
                    continue
                if result.proxy_separated:
                    self.log.info(
                        "proxy-separated: %s -> %s (%s, by %s)",
                        wallet,
                        result.proxy_wallet,
                        result.wallet_type,
                        result.resolved_by,
                    )
                resolved.append(
                    {
                        "user_eoa": result.user_eoa,
                        "proxy_wallet": result.proxy_wallet,
                        "wallet_type": result.wallet_type,
                        "resolved_by": result.resolved_by,
                    }
                )
        finally:
            gamma.close()
            data_api.close()
        separated = sum(r["proxy_wallet"] != r["user_eoa"] for r in resolved)
        self.log.info(
            "looked up %d wallets: proxy-separated=%d direct=%d no-activity=%d failed=%d; requests gamma=%d data_api=%d; %.2fs",
            len(self.wallets),
            separated,
            len(resolved) - separated,
            len(not_found),
            len(failed),
            gamma.stats.requests,
            data_api.stats.requests,
            time.monotonic() - started,
        )
        return {"resolved": resolved, "failed": failed, "not_found": not_found}
