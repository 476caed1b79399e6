"""A fill's identity: the same id however the fill was served (imported at run time: pyarrow).

Why content and a rank, not a position or a source's own id:

- The Data API has no fill id, and the CLOB's trade id is not in the Data API's rows. What both
  sources carry is the fill's *content*: wallet, transaction, asset, side, size, price and second.
  So the identity is that content, and the same fill read through either source is one row.
- One transaction can hold several fills of one wallet that agree on every field (bots trade
  like this). Such fills form a multiset inside their second; each gets its *rank* among the
  identical rows of that second (0, 1, 2, ...). The pagers hand over whole seconds only
  (``fills/pagers.py``), so re-reading a second, in any order and any number of times, gives the
  same ids again. CLOB fills rank by their trade id and maker order id, so their order on a page
  does not matter either; Data API rows that share a rank key are identical, so their order cannot.

``fill_id = blake2b(f"{wallet}|{tx}|{asset}|{side}|{size_micro}|{price_micro}|{timestamp_ms}|{rank}", 16)``
in hex. Ids that earlier versions gave Data API fills stay valid: it is the same formula, and the
old per-stream occurrence number equals the rank whenever a second was read whole.
``copies`` records how many fills of that content the source served in that second, so a
promotion check can find content stored more often than it was served.
"""

from __future__ import annotations

import binascii
from hashlib import blake2b

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def hex_ids(messages: list[bytes]) -> pa.Array:
    """``blake2b(message, digest_size=16).hexdigest()`` of each message, as an Arrow string array.

    The hex text is produced for all rows at once (one ``hexlify`` of the joined digests, fixed
    32-byte offsets) instead of one Python string per row.
    """
    n = len(messages)
    digests = b"".join([blake2b(m, digest_size=16).digest() for m in messages])
    offsets = np.arange(0, 32 * (n + 1), 32, dtype=np.int32)
    return pa.Array.from_buffers(pa.string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(binascii.hexlify(digests))])


def decimal128_to_micro(column: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """The unscaled int64 values of a ``decimal128(p, 6)`` column (the inverse of
    ``arrow.micro_to_decimal128``; values fit in int64 by the normalisers' rule)."""
    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    words = np.frombuffer(array.buffers()[1], dtype="<i8")
    return words[2 * array.offset : 2 * (array.offset + len(array)) : 2].copy()


def _column(table: pa.Table, name: str) -> pa.Array:
    return table[name].combine_chunks()


def content_keys(table: pa.Table) -> pa.Array:
    """``wallet|tx|asset|side|size_micro|price_micro|timestamp_ms`` per row: what identifies a fill
    apart from its rank."""
    return pc.binary_join_element_wise(
        _column(table, "proxy_wallet"),
        _column(table, "transaction_hash"),
        _column(table, "asset"),
        _column(table, "side"),
        pa.array(decimal128_to_micro(table["size"])).cast(pa.string()),
        pa.array(decimal128_to_micro(table["price"])).cast(pa.string()),
        _column(table, "timestamp").cast(pa.int64()).cast(pa.string()),
        "|",
    )


def ranks_and_copies(keys: pa.Array, tie_breakers: list[pa.Array]) -> tuple[np.ndarray, np.ndarray]:
    """Each row's rank among the rows with the same key (ordered by ``tie_breakers``), and the
    size of its group. The common batch has no repeated key: then every rank is 0."""
    codes = pc.dictionary_encode(keys).indices.to_numpy(zero_copy_only=False).astype(np.int64)
    counts = np.bincount(codes)
    copies = counts[codes]
    ranks = np.zeros(len(codes), dtype=np.int64)
    if len(codes) and counts.max() > 1:
        columns = {"key": pa.array(codes), **{f"t{i}": col for i, col in enumerate(tie_breakers)}}
        order = pc.sort_indices(pa.table(columns), sort_keys=[(name, "ascending") for name in columns]).to_numpy()
        sorted_codes = codes[order]
        starts = np.flatnonzero(np.concatenate(([True], sorted_codes[1:] != sorted_codes[:-1])))
        group_start = np.repeat(starts, np.diff(np.append(starts, len(codes))))
        ranks[order] = np.arange(len(codes)) - group_start
    return ranks, copies


def with_identity(table: pa.Table) -> pa.Table:
    """The batch (whole seconds of one wallet) with ``fill_id`` and ``copies`` set from its content."""
    if table.num_rows == 0:
        return table
    keys = content_keys(table)
    ranks, copies = ranks_and_copies(keys, [_column(table, "trade_id"), _column(table, "maker_order_id")])
    messages = pc.binary_join_element_wise(keys, pa.array(ranks).cast(pa.string()), "|")
    ids = hex_ids(messages.cast(pa.binary()).to_pylist())
    table = table.set_column(table.schema.get_field_index("fill_id"), "fill_id", ids)
    return table.set_column(table.schema.get_field_index("copies"), "copies", pa.array(copies, pa.uint32()))
