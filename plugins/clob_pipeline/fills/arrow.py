"""Arrow form of a fills batch: the columnar insert path into ClickHouse (imported at run time).

Sizes and prices arrive as integer micro-units, which *are* the unscaled values of a
``decimal128(p, 6)``: the decimal columns are built straight from those integers' bytes instead
of from Python ``Decimal`` objects (the slowest part of building a batch otherwise).
"""

from __future__ import annotations

import numpy as np
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
_DECIMAL_FIELDS = frozenset({"size", "price"})


def micro_to_decimal128(values: tuple[int, ...] | list[int], type_: pa.DataType) -> pa.Array:
    """int64 unscaled values -> decimal128 (16-byte little-endian two's complement per value)."""
    ints = np.fromiter(values, dtype=np.int64, count=len(values))
    words = np.empty((len(ints), 2), dtype="<i8")
    words[:, 0] = ints
    words[:, 1] = ints >> 63  # sign extension into the high word
    return pa.Array.from_buffers(type_, len(ints), [None, pa.py_buffer(words)])


def fills_to_arrow(fills: list[Fill], ingested_at_ms: int) -> pa.Table:
    """Build one columnar batch; every row of a batch shares its ``ingested_at``."""
    columns = list(zip(*fills)) if fills else [()] * len(Fill._fields)
    arrays = []
    for field, column in zip(ARROW_SCHEMA, columns):
        if field.name in _DECIMAL_FIELDS:
            arrays.append(micro_to_decimal128(column, field.type))
        else:
            arrays.append(pa.array(column, type=field.type))
    arrays.append(pa.array([ingested_at_ms] * len(fills), type=ARROW_SCHEMA.field("ingested_at").type))
    return pa.Table.from_arrays(arrays, schema=ARROW_SCHEMA)
