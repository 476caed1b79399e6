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
from clob_pipeline.fills.normalize import MICRO, MS_THRESHOLD, SIDES, ClobFillNormalizer, DataApiFillNormalizer

# The Data API fields a fill is built from, in the types the fast path accepts.
_DATA_API_ROW = pa.struct(
    [
        ("timestamp", pa.int64()),
        ("transactionHash", pa.string()),
        ("asset", pa.string()),
        ("conditionId", pa.string()),
        ("side", pa.string()),
        ("size", pa.float64()),
        ("price", pa.float64()),
        ("outcome", pa.string()),
        ("outcomeIndex", pa.int64()),
    ]
)
_SIDES = pa.array(sorted(SIDES))
# Below this many units, float(value) * 10**6 is an exact integer for integer values, so the result
# equals the per-row path's exact ``int * 10**6``; larger sizes take the per-row path.
_EXACT_LIMIT = 2**53 / MICRO
_NUMBER_TYPES = frozenset({float, int})
_INT16 = (-(2**15), 2**15 - 1)


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


def data_api_page_fast(normalizer: DataApiFillNormalizer, rows: Sequence[Any]) -> pa.Table | None:
    """The page as a fills batch without ids, or None when it needs the per-row path."""
    try:
        struct = pa.array(rows, type=_DATA_API_ROW)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError):
        return None
    if struct.null_count:
        return None
    ts, tx, asset, cond, side, size, price, outcome, outcome_index = struct.flatten()
    if any(col.null_count for col in (ts, tx, asset, cond, side, size, price, outcome_index)):
        return None  # a missing field (a missing outcomeIndex defaults to -1 on the per-row path)
    # JSON true/false convert to 1.0/0.0; the per-row path rejects them, so such pages go there.
    if not {type(r["size"]) for r in rows} | {type(r["price"]) for r in rows} <= _NUMBER_TYPES:
        return None
    ts_s = ts.to_numpy()
    size_f, price_f = size.to_numpy(), price.to_numpy()
    if not (
        ts_s.min() > 0
        and np.isfinite(size_f).all()
        and np.isfinite(price_f).all()
        and size_f.min() >= 0
        and size_f.max() < _EXACT_LIMIT
        and price_f.min() >= 0
        and pc.all(pc.is_in(side, value_set=_SIDES)).as_py()
        and all(pc.min(pc.utf8_length(col)).as_py() > 0 for col in (tx, asset, cond))
        and pc.all(pc.string_is_ascii(tx)).as_py()  # ASCII: Arrow's lower-casing equals str.lower()
        and pc.all(pc.string_is_ascii(cond)).as_py()
        and _INT16[0] <= pc.min(outcome_index).as_py()
        and pc.max(outcome_index).as_py() <= _INT16[1]
    ):
        return None

    n = len(rows)
    ts_ms = np.where(ts_s >= MS_THRESHOLD, ts_s, ts_s * 1000)
    size_u = np.rint(size_f * MICRO).astype(np.int64)  # = round(value * 10**6), half-even
    price_u = np.rint(price_f * MICRO).astype(np.int64)
    if price_u.max() > MICRO:  # the per-row rule: a price is between 0 and 1
        return None
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

