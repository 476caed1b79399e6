"""Arrow form of a fills batch: the columnar insert path into ClickHouse (imported at run time).

Sizes and prices arrive as integer micro-units, which *are* the unscaled values of a
``decimal128(p, 6)``: the decimal columns are built straight from those integers' bytes instead
of from Python ``Decimal`` objects (the slowest part of building a batch otherwise).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

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
        ("maker_order_id", pa.string()),
        ("trader_side", pa.string()),
        ("status", pa.string()),
        ("version", pa.uint64()),
        ("copies", pa.uint32()),
        ("ingested_at", pa.timestamp("ms", tz="UTC")),
    ]
)
_DECIMAL_FIELDS = frozenset({"size", "price"})


def micro_to_decimal128(values: tuple[int, ...] | list[int] | np.ndarray, type_: pa.DataType) -> pa.Array:
    """int64 unscaled values -> decimal128 (16-byte little-endian two's complement per value)."""
    ints = np.asarray(values, dtype=np.int64)
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


def latest_per_fill_id(batch: pa.Table) -> pa.Table:
    """One row per ``fill_id``: the highest ``version``, the later row on a tie.

    The pagers hand each second over once, so a batch repeats a fill id only if a source served one
    fill twice in a way they did not catch; the check for that is one vectorised count, the rare
    fix-up is Python.
    """
    ids = batch["fill_id"]
    if pc.count_distinct(ids).as_py() == batch.num_rows:
        return batch
    versions = batch["version"].to_pylist()
    keep: dict[str, int] = {}
    for i, fill_id in enumerate(ids.to_pylist()):
        held = keep.get(fill_id)
        if held is None or versions[i] >= versions[held]:
            keep[fill_id] = i
    return batch.take(pa.array(sorted(keep.values()), type=pa.int64()))


class NewVersions(NamedTuple):
    """What an idempotent insert of a batch still has to write."""

    rows: pa.Table  # fills not stored yet, or stored with a lower version
    new_ids: int  # how many of ``rows`` are fill ids not stored at all: the count's growth


def only_new_versions(batch: pa.Table, stored: Sequence[tuple[str, int]]) -> NewVersions:
    """Rows of ``batch`` (one row per fill id) whose fill id is not among the ``stored`` (fill id,
    version) rows, or is there with a lower version; and how many of them are new fill ids (a
    newer version of a stored fill replaces a row and adds nothing to the wallet's count)."""
    if not stored:
        return NewVersions(batch, batch.num_rows)
    stored_ids = pa.array([fill_id for fill_id, _ in stored], pa.string())
    stored_versions = pa.array([version for _, version in stored], pa.uint64())
    position = pc.index_in(batch["fill_id"], value_set=stored_ids)
    newer = pc.greater(batch["version"], pc.take(stored_versions, position))
    return NewVersions(batch.filter(pc.fill_null(newer, True)), position.null_count)


def with_ingested_at(batch: pa.Table, ingested_at_ms: int) -> pa.Table:
    """The batch with every row's ``ingested_at`` set to one store time."""
    column = ARROW_SCHEMA.get_field_index("ingested_at")
    field = ARROW_SCHEMA.field(column)
    return batch.set_column(column, field, pa.repeat(pa.scalar(ingested_at_ms, field.type), batch.num_rows))
