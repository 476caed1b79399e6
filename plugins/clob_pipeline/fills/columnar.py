"""API pages straight into Arrow fill batches: the fast path of normalisation (imported at run time).

Why it exists: normalising Data API rows one by one into Python tuples cost more than ClickHouse's
own insert of the same rows (issue #2's load ratio). Here a page becomes an Arrow struct array in
one C++ pass and is validated with vectorised checks; the per-row path in ``normalize.py`` is the
reference. Either way the batch gets its fill ids from ``identity.with_identity``, the one
formula for every source.

A page the vectorised checks cannot vouch for -- a missing or mistyped field, a bad value, or an
odd but valid form such as a decimal string, a lower-case side or a JSON ``true`` where a number
belongs -- goes through the per-row normaliser instead, which accepts it or raises
``MalformedFillError`` naming the field, the rule and the value. ``tests/unit/test_columnar.py``
holds the two paths equal, table for table.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from clob_pipeline.fills.arrow import ARROW_SCHEMA, fills_to_arrow, micro_to_decimal128
from clob_pipeline.fills.identity import with_identity
from clob_pipeline.fills.normalize import (
    DATA_API_RULES,
    INT16,
    MICRO,
    MS_THRESHOLD,
    SIDES,
    ClobFillNormalizer,
    DataApiFields,
    DataApiFillNormalizer,
)

# Arrow types the fast path reads each kind of DATA_API_RULES as.
_ARROW_TYPES = {
    "seconds": pa.int64(),
    "text": pa.string(),
    "side": pa.string(),
    "amount": pa.float64(),
    "price": pa.float64(),
    "label": pa.string(),
    "index": pa.int64(),
}


def _row_struct(f: DataApiFields) -> pa.StructType:
    return pa.struct([(getattr(f, rule.part), _ARROW_TYPES[rule.kind]) for rule in DATA_API_RULES])


_SIDES = pa.array(sorted(SIDES))
# Below this many units, float(value) * 10**6 is an exact integer for integer values, so the result
# equals the per-row path's exact ``int * 10**6``; larger sizes take the per-row path.
_EXACT_LIMIT = 2**53 / MICRO
_NUMBER_TYPES = frozenset({float, int})


def page_table(normalizer: DataApiFillNormalizer | ClobFillNormalizer, rows: Sequence[Any]) -> pa.Table:
    """Whole seconds of API rows as an Arrow fills batch with fill ids (``ingested_at`` is set when
    the batch is stored)."""
    if (own := getattr(normalizer, "page_table", None)) is not None:
        return own(rows)  # a source with an identity of its own (the chain's: transaction hash and log index)
    table = data_api_page_fast(normalizer, rows) if isinstance(normalizer, DataApiFillNormalizer) and rows else None
    if table is None:
        table = fills_to_arrow(normalizer.normalize_page(rows), 0)
    return with_identity(table)


def _constant(value: Any, type_: pa.DataType, n: int) -> pa.Array:
    return pa.repeat(pa.scalar(value, type_), n)


def _finite(col: pa.Array) -> np.ndarray:
    values = col.to_numpy()
    return values if np.isfinite(values).all() else np.array([np.nan])


# The vectorised form of each kind of DATA_API_RULES: True when the whole column passes (the per-row
# checks in normalize.ROW_CHECKS are the reference; a page failing here goes through them).
VECTOR_CHECKS = {
    "seconds": lambda col: pc.min(col).as_py() > 0,
    "text": lambda col: pc.min(pc.utf8_length(col)).as_py() > 0,
    "side": lambda col: pc.all(pc.is_in(col, value_set=_SIDES)).as_py(),
    "amount": lambda col: 0 <= _finite(col).min() and _finite(col).max() < _EXACT_LIMIT,
    "price": lambda col: 0 <= _finite(col).min() and np.rint(_finite(col).max() * MICRO) <= MICRO,
    "label": lambda col: True,
    "index": lambda col: INT16[0] <= pc.min(col).as_py() and pc.max(col).as_py() <= INT16[1],
}


def data_api_page_fast(normalizer: DataApiFillNormalizer, rows: Sequence[Any]) -> pa.Table | None:
    """The page as a fills batch without ids, or None when it needs the per-row path."""
    f = normalizer.fields
    try:
        struct = pa.array(rows, type=_row_struct(f))
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError):
        return None
    if struct.null_count:
        return None
    columns = dict(zip((rule.part for rule in DATA_API_RULES), struct.flatten()))
    for rule in DATA_API_RULES:
        column = columns[rule.part]
        if rule.kind != "label" and column.null_count:
            return None  # a missing field (a missing outcome index defaults to -1 on the per-row path)
        if not VECTOR_CHECKS[rule.kind](column):
            return None
        if rule.lower and not pc.all(pc.string_is_ascii(column)).as_py():
            return None  # ASCII: Arrow's lower-casing equals str.lower()
    # JSON true/false convert to 1.0/0.0; the per-row path rejects them, so such pages go there.
    if not {type(r[f.size]) for r in rows} | {type(r[f.price]) for r in rows} <= _NUMBER_TYPES:
        return None
    ts, tx, asset, cond, side = (columns[k] for k in ("timestamp", "tx", "asset", "condition", "side"))
    outcome, outcome_index = columns["outcome"], columns["outcome_index"]
    ts_s, size_f, price_f = ts.to_numpy(), columns["size"].to_numpy(), columns["price"].to_numpy()

    n = len(rows)
    ts_ms = np.where(ts_s >= MS_THRESHOLD, ts_s, ts_s * 1000)
    size_u = np.rint(size_f * MICRO).astype(np.int64)  # = round(value * 10**6), half-even
    price_u = np.rint(price_f * MICRO).astype(np.int64)
    tx, cond = pc.ascii_lower(tx), pc.ascii_lower(cond)
    empty = _constant("", pa.string(), n)
    arrays = [
        empty,  # fill_id: with_identity sets it
        _constant("data_api", pa.string(), n),
        _constant(normalizer.wallet, pa.string(), n),
        _constant(normalizer.user_eoa, pa.string(), n),
        cond,
        asset,
        side,
        pc.fill_null(outcome, ""),
        outcome_index.cast(pa.int16()),
        micro_to_decimal128(size_u, ARROW_SCHEMA.field("size").type),
        micro_to_decimal128(price_u, ARROW_SCHEMA.field("price").type),
        pa.array(ts_ms).cast(ARROW_SCHEMA.field("timestamp").type),
        tx,
        empty,  # trade_id
        empty,  # maker_order_id
        empty,  # trader_side
        empty,  # status
        _constant(0, pa.uint64(), n),
        _constant(0, pa.uint32(), n),  # copies: with_identity sets it
        _constant(0, ARROW_SCHEMA.field("ingested_at").type, n),
    ]
    return pa.Table.from_arrays(arrays, schema=ARROW_SCHEMA)

