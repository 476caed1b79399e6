"""``source=chain``: the pager and the normaliser of the chain source (pure; the hook is
``hooks/chain_source.ChainSourceHook``).

The pager first asks the hook to scan the wallet's window into the witness (``chain/scan``: it
answers with the finalized time), then pages the witness rows of the window newest first in whole
seconds (``chain/fills``), like the Data API pager hands over whole seconds, so the loader's
checkpoints and resume work unchanged. Seconds after the finalized block are not handed over: the
next run reads them once they are final.

A chain fill's identity is its transaction hash and log index (``fill_id = "<tx>:<log index>"``):
the same log is the same row however often it is read. ``copies`` still counts fills of equal
content in the second (``identity.ranks_and_copies``), so the promotion's over-count check holds
for chain rows too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from clob_pipeline.fills.normalize import MAX_MICRO, MICRO, MalformedFillError, content_fill
from clob_pipeline.fills.pagers import ApiRequest, Fed, UnexpectedResponseError, _iso
from clob_pipeline.fills.schema import Fill


@dataclass
class ChainWitnessPager:
    """A wallet's window from the chain: scan, then witness pages from ``upper_s`` down to ``start_s``."""

    wallet: str
    start_s: int
    upper_s: int
    page_size: int
    served_size: int = 0  # unused: witness pages end when they are short
    scanned: bool = False
    done: bool = False

    def __post_init__(self) -> None:
        self.done = self.start_s > self.upper_s

    def position(self) -> str:
        return f"{'witness page' if self.scanned else 'chain scan'}, {_iso(self.start_s)}..{_iso(self.upper_s)}"

    def rejected(self, error: BaseException) -> bool:
        """Nothing to route around: a failed scan or witness read fails the wallet (the hook retried)."""
        return False

    def progress(self) -> tuple:
        """The scan, then each witness page, moves this strictly (``upper_s`` only goes down)."""
        return (int(self.scanned), -self.upper_s)

    def next_request(self) -> ApiRequest | None:
        if self.done:
            return None
        if not self.scanned:
            return ApiRequest("chain/scan", {"wallet": self.wallet, "start_s": self.start_s})
        params = {"wallet": self.wallet, "start_s": self.start_s, "upper_s": self.upper_s, "limit": self.page_size}
        return ApiRequest("chain/fills", params)

    def feed(self, body: Any) -> Fed:
        if not self.scanned:
            if not isinstance(body, Mapping) or not isinstance(body.get("finalized_s"), int):
                raise UnexpectedResponseError(f"wallet {self.wallet}: chain/scan answered {str(body)[:200]!r}")
            self.scanned = True
            self.upper_s = min(self.upper_s, body["finalized_s"])
            self.done = self.start_s > self.upper_s
            return Fed([], self.upper_s)
        rows = body.get("rows") if isinstance(body, Mapping) else None
        if not isinstance(rows, list):
            raise UnexpectedResponseError(f"wallet {self.wallet}: chain/fills answered {str(body)[:200]!r}")
        if len(rows) < self.page_size:  # WITH TIES: a full page may run over, a short one is the end
            self.done = True
            return Fed(rows, self.start_s - 1)
        oldest = min(int(row["timestamp_ms"]) for row in rows) // 1000
        self.upper_s = oldest - 1
        self.done = self.upper_s < self.start_s
        return Fed(rows, self.upper_s)


class ChainFillNormalizer:
    """Witness rows (with their markets) into fills of ``wallet``."""

    source = "chain"
    # Only finalized logs are read: nothing is held back or failed (see ClobFillNormalizer for those).
    can_hold_back = False
    settled_only = True
    held_back = failed = 0
    held_from_ms: int | None = None

    def __init__(self, wallet: str, user_eoa: str) -> None:
        self.wallet, self.user_eoa = wallet, user_eoa
        self.skipped = 0

    def normalize(self, row: Mapping[str, Any]) -> Fill:
        ctx = f"wallet {self.wallet}, chain witness row"
        if not isinstance(row, Mapping):
            raise MalformedFillError("row", "must be an object", row, ctx)
        tx, log_index = str(row.get("tx_hash") or ""), row.get("log_index")
        condition_id = row.get("condition_id")
        if not condition_id:
            raise MalformedFillError("condition_id", "must be known (Gamma maps every token first)", condition_id, ctx)
        size, price = int(row["size_micro"]), int(row["price_micro"])
        if not (0 <= size <= MAX_MICRO and 0 <= price <= MICRO):
            raise MalformedFillError("size/price", "must be 0..int64 micro-units and a price within 0..1", (size, price), ctx)
        role = str(row.get("role") or "")
        return content_fill(
            "chain", self.wallet, self.user_eoa, str(condition_id), str(row["token_id"]), str(row["side"]),
            str(row.get("outcome") or ""), int(row.get("outcome_index") if row.get("outcome_index") is not None else -1),
            size, price, int(row["timestamp_ms"]), tx, "", str(row.get("order_hash") or "") if role == "maker" else "",
            role.upper(), "CONFIRMED", 0,
        )._replace(fill_id=f"{tx}:{log_index}")  # fmt: skip

    def normalize_page(self, rows: Iterable[Mapping[str, Any]]) -> list[Fill]:
        return [self.normalize(row) for row in rows]

    def page_table(self, rows: list[Any]) -> Any:
        """The Arrow batch with the chain's own ids; ``copies`` = equal contents in the second."""
        import pyarrow as pa

        from clob_pipeline.fills.arrow import fills_to_arrow
        from clob_pipeline.fills.identity import content_keys, ranks_and_copies

        table = fills_to_arrow(self.normalize_page(rows), 0)
        if table.num_rows == 0:
            return table
        _, copies = ranks_and_copies(content_keys(table), [table["fill_id"].combine_chunks()])
        return table.set_column(table.schema.get_field_index("copies"), "copies", pa.array(copies, pa.uint32()))
