"""Column layout of the fills tables, shared by the normaliser and the Arrow batch builder.

The order here is the insert order; ``include/sql/schema/create_fills_table.sql`` must declare
the same columns (a test compares them). The Arrow form lives in ``arrow.py`` so that parsing a
DAG never imports pyarrow.
"""

from __future__ import annotations

from typing import NamedTuple

SIZE_SCALE = 6  # outcome tokens and collateral both have 6 decimals on Polygon
PRICE_SCALE = 6


class Fill(NamedTuple):
    """One fill of one wallet, ready to insert. ``timestamp_ms`` is Unix milliseconds (UTC)."""

    fill_id: str
    source: str
    proxy_wallet: str
    user_eoa: str
    condition_id: str
    asset: str
    side: str
    outcome: str
    outcome_index: int
    size: int  # micro-units: shares * 10**6 (stored as Decimal(38, 6))
    price: int  # micro-units: collateral per share * 10**6 (stored as Decimal(18, 6))
    timestamp_ms: int
    transaction_hash: str
    trade_id: str  # CLOB only: the trade's id (an attribute, not the identity)
    maker_order_id: str  # CLOB only: the wallet's maker order in that trade; "" for a taker fill
    trader_side: str
    status: str
    version: int
    copies: int  # how many fills with this content the source served in this second (the multiset count)


FILL_COLUMNS: tuple[str, ...] = (
    "fill_id",
    "source",
    "proxy_wallet",
    "user_eoa",
    "condition_id",
    "asset",
    "side",
    "outcome",
    "outcome_index",
    "size",
    "price",
    "timestamp",
    "transaction_hash",
    "trade_id",
    "maker_order_id",
    "trader_side",
    "status",
    "version",
    "copies",
    "ingested_at",
)
