"""API pages straight into Arrow fill batches: the fast path of normalisation (imported at run time).

Why it exists: normalising Data API rows one by one into Python tuples cost more than ClickHouse's
own insert of the same rows (issue #2's load ratio). Here a page becomes an Arrow struct array in
one C++ pass, is validated with vectorised checks, and its fill ids come from the same formula
as the per-row path in ``normalize.py`` (the reference).

A page the vectorised checks cannot vouch for -- a missing or mistyped field, a bad value, or an
odd but valid form such as a decimal string, a lower-case side or a JSON ``true`` where a number
belongs -- goes through the per-row normaliser instead, which accepts it or raises
``MalformedFillError`` naming the field, the rule and the value. The fast path changes no state
before it has accepted the whole page, and both paths share the occurrence counters, so a fill's
id never depends on which path its page took (``tests/unit/test_columnar.py`` holds them equal).
"""

from __future__ import annotations

import binascii
from collections.abc import Sequence
from hashlib import blake2b
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from clob_pipeline.fills.arrow import ARROW_SCHEMA, fills_to_arrow, micro_to_decimal128
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
    """One API page as an Arrow fills batch (``ingested_at`` is set when the batch is stored)."""
    if isinstance(normalizer, DataApiFillNormalizer) and rows:
        table = data_api_page_fast(normalizer, rows)
        if table is not None:
            return table
    return fills_to_arrow(normalizer.normalize_page(rows), 0)


def _constant(value: Any, type_: pa.DataType, n: int) -> pa.Array:
    return pa.repeat(pa.scalar(value, type_), n)


def hex_ids(messages: list[bytes]) -> pa.Array:
    """``blake2b(message, digest_size=16).hexdigest()`` of each message, as an Arrow string array.

    The hex text is produced for all rows at once (one ``hexlify`` of the joined digests, fixed
    32-byte offsets) instead of one Python string per row.
    """
    n = len(messages)
    digests = b"".join([blake2b(m, digest_size=16).digest() for m in messages])
    offsets = np.arange(0, 32 * (n + 1), 32, dtype=np.int32)
    return pa.Array.from_buffers(pa.string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(binascii.hexlify(digests))])


def data_api_page_fast(normalizer: DataApiFillNormalizer, rows: Sequence[Any]) -> pa.Table | None:
    """The page as a fills batch, or None (state untouched) when it needs the per-row path."""
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
    wallet = normalizer.wallet
    identity = pc.binary_join_element_wise(
        wallet,
        tx,
        asset,
        side,
        pa.array(size_u).cast(pa.string()),
        pa.array(price_u).cast(pa.string()),
        pa.array(ts_ms).cast(pa.string()),
        "|",
    )
    occurrences = page_occurrences(normalizer, ts_ms, identity)  # the page is accepted: state changes
    if occurrences is None:
        messages = pc.binary_join_element_wise(identity, "0", "|")
    else:
        messages = pc.binary_join_element_wise(identity, pa.array(occurrences).cast(pa.string()), "|")

    arrays = [
        hex_ids(messages.cast(pa.binary()).to_pylist()),
        _constant("data_api", pa.string(), n),
        _constant(wallet, pa.string(), n),
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
        _constant("", pa.string(), n),
        _constant("", pa.string(), n),
        _constant("", pa.string(), n),
        _constant(0, pa.uint64(), n),
        _constant(0, ARROW_SCHEMA.field("ingested_at").type, n),
    ]
    return pa.Table.from_arrays(arrays, schema=ARROW_SCHEMA)


def page_occurrences(normalizer: DataApiFillNormalizer, ts_ms: np.ndarray, identity: pa.Array) -> np.ndarray | None:
    """Occurrence numbers of a page's rows, as the per-row path counts them; None = all zero.

    Only rows whose identity repeats within the page, or that continue the previous page's last
    run of equal timestamps, can have a non-zero number; those few are counted in Python with
    the per-row rule (counters restart at every change of timestamp). Leaves the normaliser's
    counters where the per-row path would.
    """
    n = len(identity)
    runs = np.concatenate(([0], np.cumsum(ts_ms[1:] != ts_ms[:-1])))
    carried = normalizer.carried(int(ts_ms[0]))
    codes = pc.dictionary_encode(identity).indices.to_numpy()
    to_count = np.bincount(codes)[codes] > 1
    if carried:
        to_count |= runs == 0
    occurrences = None
    rows = np.flatnonzero(to_count)
    if len(rows):
        occurrences = np.zeros(n, dtype=np.int64)
        counts, current_run, numbers = dict(carried), 0, []
        for run, ident in zip(runs[rows].tolist(), identity.take(pa.array(rows)).to_pylist()):
            if run != current_run:
                counts, current_run = {}, run
            number = counts.get(ident, 0)
            counts[ident] = number + 1
            numbers.append(number)
        occurrences[rows] = numbers
    last_run = runs[-1]
    tail_counts = dict(carried) if last_run == 0 else {}
    for ident in identity.slice(int(np.searchsorted(runs, last_run))).to_pylist():
        tail_counts[ident] = tail_counts.get(ident, 0) + 1
    normalizer.end_page(int(ts_ms[-1]), tail_counts)
    return occurrences
