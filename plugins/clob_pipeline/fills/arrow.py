"""Arrow form of a fills batch: the columnar insert path into ClickHouse (imported at run time)."""

from __future__ import annotations

import pyarrow as pa

from clob_pipeline.fills.schema import PRICE_SCALE, SIZE_SCALE, Fill

ARROW_SCHEMA = pa.schema(
    [
        ("fill_id", pa.string()),
        ("source", pa.string()),
        ("proxy_wallet", pa.string()),
        ("user_eoa", pa.string()),
        ("condition_id", pa.string()),
        ("asset", pa.string()),
        ("side", pa.string()),
        ("outcome", pa.string()),
        ("outcome_index", pa.int16()),
        ("size", pa.decimal128(38, SIZE_SCALE)),
        ("price", pa.decimal128(18, PRICE_SCALE)),
        ("timestamp", pa.timestamp("ms", tz="UTC")),
        ("transaction_hash", pa.string()),
        ("trade_id", pa.string()),
        ("trader_side", pa.string()),
        ("status", pa.string()),
        ("version", pa.uint64()),
        ("ingested_at", pa.timestamp("ms", tz="UTC")),
    ]
)


def fills_to_arrow(fills: list[Fill], ingested_at_ms: int) -> pa.Table:
    """Build one columnar batch; every row of a batch shares its ``ingested_at``."""
    columns = list(zip(*fills)) if fills else [()] * len(Fill._fields)
    arrays = [pa.array(col, type=ARROW_SCHEMA.field(i).type) for i, col in enumerate(columns)]
    arrays.append(pa.array([ingested_at_ms] * len(fills), type=ARROW_SCHEMA.field("ingested_at").type))
    return pa.Table.from_arrays(arrays, schema=ARROW_SCHEMA)
