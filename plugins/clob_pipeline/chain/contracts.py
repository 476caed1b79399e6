"""Exchange contracts, eras and ``OrderFilled`` event layouts: configuration, not code paths.

Why configuration: Polymarket moved to new exchange contracts with a new event layout on 2026-04-28
(``shared/polymarket-api.md`` §6.1-6.2) and announces a Protocol V2 ``ExchangeV3`` whose layout is
UNCONFIRMED. A deployment that learns a new contract or layout adds it to the ``polygon_rpc``
connection's extra ``chain_config`` (a JSON object, or a path to a JSON file) instead of waiting for
a release; the decoder only knows two rules for the side (``asset_ids``: V1, ``side_field``: V2).

Era bounds are UTC seconds, not block numbers, so one table serves every provider and the emulator;
the scan resolves them to blocks by the cached block search (``blocks.py``). A window queries the
exchanges of every era that overlaps it, with both ``OrderFilled`` topics OR-ed. Bounds are wide on
purpose (UNCONFIRMED exact dates): an extra address in a filter costs nothing, a missing one loses fills.

Override format (every key optional; ``layouts`` entries replace by name, ``eras`` replaces the list)::

    {"chain_id": 137,
     "layouts": {"order_filled_v3": {"signature": "OrderFilled(...)", "data": [["side", "uint8"], ...],
                                     "side": "side_field"}},
     "eras": [{"name": "v3", "layout": "order_filled_v3", "exchanges": ["0x..."], "first_s": 1790000000}]}
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_hash.auto import keccak

from clob_pipeline.errors import NotRetryableError

CHAIN_CONFIG_ENV = "CLOB_PIPELINE_CHAIN_CONFIG"  # a JSON file that overrides the default table
_ADDRESS = re.compile(r"^0x[0-9a-f]{40}$")
SIDE_RULES = ("asset_ids", "side_field")
# The fields a side rule reads from the decoded data, besides the two amounts and the fee.
_RULE_FIELDS = {"asset_ids": ("makerAssetId", "takerAssetId"), "side_field": ("side", "tokenId")}
_AMOUNT_FIELDS = ("makerAmountFilled", "takerAmountFilled", "fee")

DEFAULT_CHAIN_CONFIG: dict[str, Any] = {
    "chain_id": 137,
    "layouts": {
        # ctf-exchange ITrading.sol; topic0 recomputed from the signature when the table loads
        "order_filled_v1": {
            "signature": "OrderFilled(bytes32,address,address,uint256,uint256,uint256,uint256,uint256)",
            "data": [
                ["makerAssetId", "uint256"],
                ["takerAssetId", "uint256"],
                ["makerAmountFilled", "uint256"],
                ["takerAmountFilled", "uint256"],
                ["fee", "uint256"],
            ],
            "side": "asset_ids",  # makerAssetId 0 (collateral) = the maker order buys
        },
        # py-clob-client-v2 _EXCHANGE_V2_ABI_JSON; side is the maker order's: 0 BUY, 1 SELL
        "order_filled_v2": {
            "signature": "OrderFilled(bytes32,address,address,uint8,uint256,uint256,uint256,uint256,bytes32,bytes32)",
            "data": [
                ["side", "uint8"],
                ["tokenId", "uint256"],
                ["makerAmountFilled", "uint256"],
                ["takerAmountFilled", "uint256"],
                ["fee", "uint256"],
                ["builder", "bytes32"],
                ["metadata", "bytes32"],
            ],
            "side": "side_field",
        },
    },
    "eras": [
        {
            "name": "v1",
            "layout": "order_filled_v1",
            "exchanges": ["0x4bfb41d5b3570defd03c39a9a4d8de6bd8b8982e", "0xc5d563a36ae78145c45a50134d48a1215220f80a"],
            "first_s": 1664150400,  # 2022-09-26: the day CTFExchange was created (ctf-exchange broadcast 1664228343)
            "last_s": 1779926400,  # 2026-05-28: the 2026-04-28 cutover plus 30 days (UNCONFIRMED last fill)
        },
        {
            "name": "v2",
            "layout": "order_filled_v2",
            "exchanges": ["0xe111180000d2663c0091e4f400237545b87b996b", "0xe2222d279d744050d28e00520010520000310f59"],
            "first_s": 1774915200,  # 2026-03-31: deployment per polydata (UNCONFIRMED by Polymarket)
            "last_s": None,
        },
    ],
}


class ChainConfigError(NotRetryableError, ValueError):
    """The chain configuration breaks a rule; names the field, the rule and the value."""


@dataclass(frozen=True)
class Layout:
    name: str
    topic0: str
    types: tuple[str, ...]
    names: tuple[str, ...]
    side_rule: str


@dataclass(frozen=True)
class Era:
    name: str
    layout: Layout
    exchanges: tuple[str, ...]
    first_s: int
    last_s: int | None  # None: still open

    def overlaps(self, lo_s: int, hi_s: int) -> bool:
        return self.first_s <= hi_s and (self.last_s is None or self.last_s >= lo_s)


@dataclass(frozen=True)
class ChainConfig:
    chain_id: int
    eras: tuple[Era, ...]

    @property
    def layouts(self) -> dict[str, Layout]:
        """Layouts by topic0 (every era's)."""
        return {era.layout.topic0: era.layout for era in self.eras}

    @property
    def exchanges(self) -> frozenset[str]:
        """Every exchange address of every era: a fill whose taker is one of them is a taker-order row."""
        return frozenset(a for era in self.eras for a in era.exchanges)

    def era_of(self, address: str) -> Era | None:
        return next((era for era in self.eras if address in era.exchanges), None)

    @property
    def key(self) -> str:
        """A short fingerprint of what a scan reads: block ranges scanned under another table are read again."""
        text = json.dumps([[e.name, e.layout.topic0, sorted(e.exchanges), e.first_s, e.last_s] for e in self.eras])
        return keccak(text.encode()).hex()[:16]


def _fail(field: str, rule: str, value: Any) -> ChainConfigError:
    return ChainConfigError(
        f"chain configuration: {field} {rule}; got {value!r}. Fix the polygon_rpc connection's extra chain_config "
        f"(or ${CHAIN_CONFIG_ENV}); nothing was read."
    )


def _layout(name: str, raw: Any) -> Layout:
    if not isinstance(raw, Mapping):
        raise _fail(f"layouts.{name}", "must be an object", raw)
    signature, data, side = raw.get("signature"), raw.get("data"), raw.get("side")
    if not isinstance(signature, str) or not re.fullmatch(r"\w+\([\w,\[\]]*\)", signature):
        raise _fail(f"layouts.{name}.signature", "must be an event signature like OrderFilled(bytes32,...)", signature)
    if not isinstance(data, list) or not all(isinstance(d, list) and len(d) == 2 for d in data):
        raise _fail(f"layouts.{name}.data", "must be a list of [name, abi type] pairs (the non-indexed fields)", data)
    if side not in SIDE_RULES:
        raise _fail(f"layouts.{name}.side", f"must be one of {list(SIDE_RULES)}", side)
    names = tuple(str(n) for n, _ in data)
    missing = [f for f in _RULE_FIELDS[side] + _AMOUNT_FIELDS if f not in names]
    if missing:
        raise _fail(f"layouts.{name}.data", f"must name the fields {missing} that side rule {side!r} reads", names)
    topic0 = "0x" + keccak(signature.encode()).hex()
    if raw.get("topic0") not in (None, topic0):
        raise _fail(f"layouts.{name}.topic0", f"must be keccak256 of the signature ({topic0})", raw.get("topic0"))
    return Layout(name, topic0, tuple(str(t) for _, t in data), names, side)


def _era(index: int, raw: Any, layouts: Mapping[str, Layout]) -> Era:
    where = f"eras[{index}]"
    if not isinstance(raw, Mapping):
        raise _fail(where, "must be an object", raw)
    layout = layouts.get(raw.get("layout"))  # type: ignore[arg-type]
    if layout is None:
        raise _fail(f"{where}.layout", f"must name one of the layouts {sorted(layouts)}", raw.get("layout"))
    exchanges = raw.get("exchanges")
    if not isinstance(exchanges, list) or not exchanges:
        raise _fail(f"{where}.exchanges", "must be a non-empty list of 0x addresses", exchanges)
    lowered = tuple(str(a).lower() for a in exchanges)
    if bad := [a for a in lowered if not _ADDRESS.match(a)]:
        raise _fail(f"{where}.exchanges", "must hold 0x + 40 hex addresses", bad)
    first_s, last_s = raw.get("first_s", 0), raw.get("last_s")
    if not isinstance(first_s, int) or (last_s is not None and (not isinstance(last_s, int) or last_s < first_s)):
        raise _fail(f"{where}.first_s/last_s", "must be UTC seconds with last_s (or null) >= first_s", (first_s, last_s))
    return Era(str(raw.get("name") or layout.name), layout, lowered, first_s, last_s)


def load_chain_config(override: Mapping[str, Any] | str | None = None) -> ChainConfig:
    """The default table with ``override`` (an object, JSON text or a JSON file path) and then
    ``$CLOB_PIPELINE_CHAIN_CONFIG`` applied; validated before anything is read."""
    merged: dict[str, Any] = {**DEFAULT_CHAIN_CONFIG, "layouts": dict(DEFAULT_CHAIN_CONFIG["layouts"])}
    for source in (override, os.environ.get(CHAIN_CONFIG_ENV)):
        if not source:
            continue
        if isinstance(source, str):
            text = source if source.lstrip().startswith("{") else Path(source).read_text()
            try:
                source = json.loads(text)
            except ValueError as err:
                raise _fail("chain_config", "must be a JSON object", f"{text[:80]} ({err})") from None
        if not isinstance(source, Mapping):
            raise _fail("chain_config", "must be a JSON object", source)
        merged["layouts"].update(source.get("layouts") or {})
        merged.update({k: v for k, v in source.items() if k != "layouts"})
    layouts = {name: _layout(name, raw) for name, raw in merged["layouts"].items()}
    eras = tuple(_era(i, raw, layouts) for i, raw in enumerate(merged.get("eras") or []))
    if not eras:
        raise _fail("eras", "must list at least one era", merged.get("eras"))
    chain_id = merged.get("chain_id")
    if not isinstance(chain_id, int):
        raise _fail("chain_id", "must be an integer (Polygon: 137)", chain_id)
    return ChainConfig(chain_id, eras)
