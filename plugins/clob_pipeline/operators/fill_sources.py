"""The fill sources a load task can read. Each is three parts the one load loop drives alike.

A source is:

- **a hook** (``hooks/polymarket.py``): ``get_json(endpoint, params)`` with the rate budget, retries and
  stats (``stats``, ``thread_stats``, ``budget_per_s``, ``max_in_flight``, ``page_size``, ``close()``);
- **a pager factory**: called once per task with the hook (it may ask the API something first, as the
  v1 probe does), it returns ``make(wallet, start_s, upper_s) -> Pager`` (``fills/pagers.Pager``:
  ``next_request``, ``feed``, ``rejected``, ``progress``, ``position``, ``done``); the pager hands over
  whole seconds only and checks every row belongs to the wallet;
- **a normaliser factory**: ``make(wallet, user_eoa)`` with ``normalize_page(rows) -> list[Fill]`` and a
  ``skipped`` count (``fills/normalize.py``; ``fills/columnar.page_table`` takes it).

A new source adds one ``FillSource`` here and its name to ``fills/params.SOURCES``; the fetch driver,
progress guard, writer, checkpoints, ledger and closing lines need no change.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from clob_pipeline.fills.chain_pager import ChainFillNormalizer, ChainWitnessPager
from clob_pipeline.fills.normalize import V1_FIELDS, V2_FIELDS, ClobFillNormalizer, DataApiFillNormalizer
from clob_pipeline.fills.pagers import ClobPager, DataApiPager, DataApiV2Pager, Pager
from clob_pipeline.hooks.chain_source import ChainSourceHook
from clob_pipeline.hooks.polymarket import PolymarketClobHook, PolymarketDataApiHook, PolymarketHook

PagerFactory = Callable[[str, int, int], Pager]


@dataclass(frozen=True)
class FillSource:
    name: str
    hook: Callable[[str], PolymarketHook]
    conn_param: str  # the operator argument naming the connection
    pagers: Callable[[PolymarketHook], PagerFactory]
    normalizer: Callable[[str, str], Any]
    note: str = ""  # what this source cannot see, for the wallet's closing line

    @property
    def budget_per_s(self) -> float:
        """The published budget of the hook's endpoints (the connection may lower it)."""
        requests, period = self.hook.default_rate_limit
        return requests / period


SOURCES: dict[str, FillSource] = {
    source.name: source
    for source in (
        FillSource(
            "data_api_v2",
            PolymarketDataApiHook,
            "data_api_conn_id",
            lambda hook: functools.partial(DataApiV2Pager, page_size=hook.page_size),
            functools.partial(DataApiFillNormalizer, fields=V2_FIELDS),
            note="v2 does not serve fills below 0.01 shares (filter_amount); they are not counted",
        ),
        FillSource(
            "data_api_v1",
            PolymarketDataApiHook,
            "data_api_conn_id",
            lambda hook: DataApiPager.for_task(hook, hook.page_size),
            functools.partial(DataApiFillNormalizer, fields=V1_FIELDS),
        ),
        FillSource("clob", PolymarketClobHook, "clob_conn_id", lambda hook: ClobPager, ClobFillNormalizer),
        FillSource(  # Polygon OrderFilled logs, scanned into the witness table and paged out of it (source_rule.py)
            "chain",
            ChainSourceHook,
            "polygon_rpc_conn_id",
            lambda hook: functools.partial(ChainWitnessPager, page_size=hook.page_size),
            ChainFillNormalizer,
        ),
    )
}
