"""Turn Polymarket API rows into :class:`Fill` records (content only; identity comes later).

Every row is validated before anything is written; a bad row raises :class:`MalformedFillError`
naming the field, the rule and the value. Fill ids are not made here: a fill's id depends on the
other fills of its second (identical fills are ranked), so ``fills/identity.py`` assigns ids to
whole seconds at once, for every source with one formula.

The Data API per-row path here is the reference for the columnar fast path in ``columnar.py``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any, NamedTuple

from clob_pipeline.errors import NotRetryableError
from clob_pipeline.fills.schema import SIZE_SCALE, Fill

ADDRESS_RE = re.compile(r"^0x[0-9a-f]{40}$")
SIDES = frozenset({"BUY", "SELL"})
MICRO = 10**SIZE_SCALE  # sizes and prices are held as integer micro-units (value * 10**6)
_MICRO_Q = Decimal(1).scaleb(-SIZE_SCALE)
MAX_MICRO = 2**63 - 1  # micro-units travel as int64 on their way into Decimal columns
MS_THRESHOLD = 10**11  # Unix seconds stay below this until the year 5138; milliseconds exceed it


class MalformedFillError(NotRetryableError, ValueError):
    """An API row broke a rule; nothing from its page was written."""

    def __init__(self, field: str, rule: str, value: Any, context: str = "") -> None:
        self.field, self.rule, self.value = field, rule, value
        where = f" ({context})" if context else ""
        super().__init__(
            f"malformed fill{where}: field {field!r} {rule}; got {value!r}. "
            "Nothing from this page was written. Check the API response for this wallet; if the API "
            "changed its shape, update clob_pipeline/fills/normalize.py."
        )


def _text(row: Mapping[str, Any], field: str, ctx: str, *, required: bool = True) -> str:
    value = row.get(field)
    if value is None or value == "":
        if required:
            raise MalformedFillError(field, "must be a non-empty string", value, ctx)
        return ""
    if not isinstance(value, str):
        raise MalformedFillError(field, "must be a string", value, ctx)
    return value


def to_micro(value: Any) -> int:
    """A JSON number or decimal string as an integer count of 10**-6 units (half-even rounding).

    Floats round their product with 10**6 (exact for the <= 6 decimals prices and sizes carry);
    strings go through Decimal. Raises ValueError/TypeError/OverflowError on anything else.
    """
    if type(value) is float:
        return round(value * MICRO)
    if type(value) is int:
        return value * MICRO
    if type(value) is str:
        number = Decimal(value)
        if not number.is_finite():
            raise ValueError(value)
        return int(number.quantize(_MICRO_Q, rounding=ROUND_HALF_EVEN).scaleb(SIZE_SCALE))
    raise TypeError(value)


def _micro(row: Mapping[str, Any], field: str, ctx: str, *, key: str | None = None) -> int:
    value = row.get(key or field)
    try:
        micro = to_micro(value)
    except (InvalidOperation, TypeError, ValueError, OverflowError):
        raise MalformedFillError(field, "must be a finite number or decimal string", value, ctx) from None
    if micro < 0:
        raise MalformedFillError(field, "must be >= 0", value, ctx)
    if micro > MAX_MICRO:
        raise MalformedFillError(field, f"must be at most {MAX_MICRO / MICRO:,.0f} (held as int64 micro-units)", value, ctx)
    return micro


def timestamp_ms(value: Any, field: str, ctx: str) -> int:
    """Accept Unix seconds (int or numeric string) and, detected by magnitude, milliseconds."""
    if isinstance(value, bool):
        raise MalformedFillError(field, "must be Unix seconds", value, ctx)
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise MalformedFillError(field, "must be Unix seconds", value, ctx) from None
    if number <= 0:
        raise MalformedFillError(field, "must be a positive Unix time", value, ctx)
    return number if number >= MS_THRESHOLD else number * 1000


def _side(value: Any, field: str, ctx: str) -> str:
    side = value.upper() if isinstance(value, str) else value
    if side not in SIDES:
        raise MalformedFillError(field, "must be BUY or SELL", value, ctx)
    return side


_new_fill = Fill._make  # positional construction, cheaper than keyword arguments per row


def content_fill(
    source: str,
    wallet: str,
    user_eoa: str,
    condition_id: str,
    asset: str,
    side: str,
    outcome: str,
    outcome_index: int,
    size: int,
    price: int,
    ts_ms: int,
    tx: str,
    trade_id: str = "",
    maker_order_id: str = "",
    trader_side: str = "",
    status: str = "",
    version: int = 0,
) -> Fill:
    """A fill's content from any source, before identity: ``fill_id`` and ``copies`` stay empty
    because ``fills/identity.py`` sets them per second, for every source with one formula."""
    return _new_fill(
        ("", source, wallet, user_eoa, condition_id, asset, side, outcome, outcome_index, size, price, ts_ms, tx,
         trade_id, maker_order_id, trader_side, status, version, 0)
    )  # fmt: skip


class DataApiFields(NamedTuple):
    """Where a Data API row keeps each part of a fill: v1 ``/trades`` rows are camelCase, v2
    ``/v2/trades`` rows snake_case (and ``token_id`` replaces ``asset``)."""

    wallet: str
    timestamp: str
    tx: str
    asset: str
    condition: str
    side: str
    size: str
    price: str
    outcome: str
    outcome_index: str


V1_FIELDS = DataApiFields(
    "proxyWallet", "timestamp", "transactionHash", "asset", "conditionId", "side", "size", "price", "outcome", "outcomeIndex"
)
V2_FIELDS = DataApiFields(
    "proxy_wallet", "timestamp", "transaction_hash", "token_id", "condition_id", "side", "size", "price", "outcome",
    "outcome_index",
)  # fmt: skip


class Rule(NamedTuple):
    """How one part of a Data API row is checked (``kind``) and whether it is stored lower-cased."""

    part: str  # a DataApiFields attribute
    kind: str  # a key of ROW_CHECKS (per row) and of columnar.VECTOR_CHECKS (per page)
    lower: bool = False


# The Data API row rules, written once for both row layouts (v1 camelCase, v2 snake_case) and both
# paths: the per-row normaliser below applies them with ROW_CHECKS, ``columnar.py`` with its
# vectorised checks of the same kinds (a page they cannot vouch for comes here).
DATA_API_RULES: tuple[Rule, ...] = (
    Rule("timestamp", "seconds"),
    Rule("tx", "text", lower=True),
    Rule("asset", "text"),
    Rule("condition", "text", lower=True),
    Rule("side", "side"),
    Rule("size", "amount"),
    Rule("price", "price"),
    Rule("outcome", "label"),
    Rule("outcome_index", "index"),
)
INT16 = (-(2**15), 2**15 - 1)


def _price(row: Mapping[str, Any], name: str, ctx: str) -> int:
    price = _micro(row, name, ctx)
    if price > MICRO:
        raise MalformedFillError(name, "must be between 0 and 1", row.get(name), ctx)
    return price


def _index(row: Mapping[str, Any], name: str, ctx: str) -> int:
    value = row.get(name, -1)  # missing: -1 (unknown); v2 uses 999 for "unlabeled"
    if not isinstance(value, int) or isinstance(value, bool) or not INT16[0] <= value <= INT16[1]:
        raise MalformedFillError(name, f"must be an integer in {INT16[0]}..{INT16[1]}", value, ctx)
    return value


ROW_CHECKS = {
    "seconds": lambda row, name, ctx: timestamp_ms(row.get(name), name, ctx),
    "text": lambda row, name, ctx: _text(row, name, ctx),
    "side": lambda row, name, ctx: _side(row.get(name), name, ctx),
    "amount": _micro,
    "price": _price,
    "label": lambda row, name, ctx: _text(row, name, ctx, required=False),
    "index": _index,
}


class DataApiFillNormalizer:
    """Normalises Data API rows of one wallet (stateless: ids are assigned per batch). ``fields``: the
    row layout (``V1_FIELDS`` or ``V2_FIELDS``); both versions store ``source`` = ``data_api``, so a
    fill read through either is the same row."""

    source = "data_api"

    def __init__(self, wallet: str, user_eoa: str, fields: DataApiFields = V1_FIELDS) -> None:
        self.wallet = wallet
        self.user_eoa = user_eoa
        self.fields = fields

    # The Data API serves fills from the chain: nothing is held back or failed (see ClobFillNormalizer).
    can_hold_back = False
    settled_only = True  # a trade held back by a CLOB load and settled since is served (WalletLoad._hold_after)
    held_back = failed = skipped = 0
    held_from_ms: int | None = None

    def normalize(self, row: Mapping[str, Any]) -> Fill:
        """One row, every field checked by ``DATA_API_RULES`` (names the first broken field, rule, value)."""
        ctx = f"wallet {self.wallet}, data_api row"
        if not isinstance(row, Mapping):
            raise MalformedFillError("row", "must be a JSON object", row, ctx)
        v = {}
        for rule in DATA_API_RULES:
            name = getattr(self.fields, rule.part)
            value = ROW_CHECKS[rule.kind](row, name, ctx)
            v[rule.part] = value.lower() if rule.lower else value
        return content_fill(
            "data_api", self.wallet, self.user_eoa, v["condition"], v["asset"], v["side"], v["outcome"], v["outcome_index"],
            v["size"], v["price"], v["timestamp"], v["tx"],
        )  # fmt: skip

    def normalize_page(self, rows: Iterable[Mapping[str, Any]]) -> list[Fill]:
        return [self.normalize(row) for row in rows]


# CLOB statuses (polymarket-api.md §7). Only CONFIRMED is final: a MATCHED or MINED trade can still
# turn RETRYING (its transaction failed or was reorged; re-mined under another hash) or FAILED, and a
# fill's id holds its hash while the writer never deletes. So those are held back (like a trade without
# its hash yet) until CONFIRMED; a failed trade never was a fill.
_FAILED = "FAILED"
_NOT_FINAL = frozenset({"MATCHED", "MINED", "RETRYING"})


class ClobFillNormalizer:
    """Normalises CLOB ``/data/trades`` trade objects into the key owner's fills.

    A trade where the wallet was the taker is one fill (the top-level fields describe the taker
    order). Where it was a maker, its fills are the ``maker_orders`` entries whose
    ``maker_address`` is the wallet. ``version`` is ``last_update`` so a later
    version of a stored fill replaces the earlier row in the ReplacingMergeTree.

    A fill's identity is its content (``fills/identity.py``), which needs the transaction hash. A
    trade without one yet (fill-and-kill / fill-or-kill orders since 2026-07-24, ``polymarket-api.md``
    §1.5) or not final yet (MATCHED, MINED, RETRYING: §7; its hash may still change, or it may fail) is
    **held back**: never stored, counted in ``held_back``, its oldest match time in ``held_from_ms``
    so the load keeps re-reading from there until it is CONFIRMED. A ``FAILED``
    trade never was a fill: counted in ``failed``, dropped. The trade id and maker order id are kept
    as attributes.
    """

    source = "clob"
    can_hold_back = True  # a load through it re-reads (and so can clear) an earlier hold
    settled_only = False  # it serves trades before they settle (held back above)

    def __init__(self, wallet: str, user_eoa: str) -> None:
        self.wallet = wallet
        self.user_eoa = user_eoa
        self.held_back = 0
        self.held_from_ms: int | None = None
        self.failed = 0

    @property
    def skipped(self) -> int:
        """Trades not stored: held back or failed."""
        return self.held_back + self.failed

    def normalize_trade(self, trade: Mapping[str, Any]) -> list[Fill]:
        ctx = f"wallet {self.wallet}, clob trade {trade.get('id')!r}" if isinstance(trade, Mapping) else ""
        if not isinstance(trade, Mapping):
            raise MalformedFillError("trade", "must be a JSON object", trade, ctx)
        trade_id = _text(trade, "id", ctx)
        ts_ms = timestamp_ms(trade.get("match_time"), "match_time", ctx)
        version = int(timestamp_ms(trade.get("last_update") or trade.get("match_time"), "last_update", ctx))
        status = _text(trade, "status", ctx, required=False).upper().removeprefix("TRADE_STATUS_")
        market = _text(trade, "market", ctx).lower()
        tx = _text(trade, "transaction_hash", ctx, required=False).lower()
        taker_side = _side(trade.get("side"), "side", ctx)
        trader_side = (trade.get("trader_side") or "").upper()
        if trader_side not in ("TAKER", "MAKER"):
            raise MalformedFillError("trader_side", "must be TAKER or MAKER", trade.get("trader_side"), ctx)
        if status == _FAILED:
            self.failed += 1
            return []
        if not tx or status in _NOT_FINAL:
            self.held_back += 1
            self.held_from_ms = ts_ms if self.held_from_ms is None else min(self.held_from_ms, ts_ms)
            return []
        outcome_index = int(trade.get("outcome_index", -1) if trade.get("outcome_index") is not None else -1)

        def fill(asset: str, side: str, outcome: str, size: int, price: int, maker_order_id: str) -> Fill:
            return content_fill(
                self.source, self.wallet, self.user_eoa, market, asset, side, outcome, outcome_index, size, price, ts_ms, tx,
                trade_id, maker_order_id, trader_side, status, version,
            )  # fmt: skip

        if trader_side == "TAKER":
            return [
                fill(
                    _text(trade, "asset_id", ctx),
                    taker_side,
                    _text(trade, "outcome", ctx, required=False),
                    _micro(trade, "size", ctx),
                    _micro(trade, "price", ctx),
                    "",
                )
            ]
        fills = []
        taker_asset = _text(trade, "asset_id", ctx)
        for order in trade.get("maker_orders") or []:
            if not isinstance(order, Mapping):
                raise MalformedFillError("maker_orders[]", "must be JSON objects", order, ctx)
            if str(order.get("maker_address", "")).lower() != self.wallet:
                continue
            asset = _text(order, "asset_id", ctx)
            if order.get("side"):
                side = _side(order.get("side"), "maker_orders[].side", ctx)
            else:  # same token: opposite side of the taker; complementary token: same side
                opposite = "SELL" if taker_side == "BUY" else "BUY"
                side = opposite if asset == taker_asset else taker_side
            fills.append(
                fill(
                    asset,
                    side,
                    _text(order, "outcome", ctx, required=False),
                    _micro(order, "maker_orders[].matched_amount", ctx, key="matched_amount"),
                    _micro(order, "maker_orders[].price", ctx, key="price"),
                    _text(order, "order_id", ctx),
                )
            )
        return fills

    def normalize_page(self, trades: Iterable[Mapping[str, Any]]) -> list[Fill]:
        return [fill for trade in trades for fill in self.normalize_trade(trade)]
