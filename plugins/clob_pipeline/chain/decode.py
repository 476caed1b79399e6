"""One ``OrderFilled`` log into a wallet's fill: eth-abi decoding, side/size/price per layout.

What a log must prove before it becomes a fill (a log failing any of these is never stored, and
the scan fails naming what the provider sent, ``ForeignLogError``):

- it comes from an exchange contract of the configuration and carries a configured ``OrderFilled`` topic0;
- its maker topic is the wallet asked for (the wallet's own order), it is not ``removed`` (a reorg);
- it has a transaction hash, a log index and a block number: the fill's identity is
  (transaction hash, log index), which no provider can renumber once the block is final.

Side, size and price (``shared/polymarket-api.md`` §6.2, §7): both assets have 6 decimals.
A BUY order gives collateral (``makerAmountFilled``) for tokens (``takerAmountFilled``); a SELL
order gives tokens for collateral. V1 tells the side by which asset id is 0 (collateral), V2 by its
``side`` field (the maker order's: 0 BUY, 1 SELL). Price = collateral / tokens, rounded half-even
to 6 decimals. The fee is kept as emitted (base units). A row whose taker is an exchange contract
is the wallet's *taker* order (one match emits one row per maker order plus one for the taker order,
§6.3); every other row is one of its resting (maker) orders.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from eth_abi import decode as abi_decode
from eth_abi.exceptions import DecodingError

from clob_pipeline.chain.contracts import ChainConfig, Layout
from clob_pipeline.errors import NotRetryableError

MICRO = 10**6
MAX_MICRO = 2**63 - 1  # amounts travel as int64 micro-units into Decimal(38, 6) columns
ZERO_WORD = "0x" + "0" * 64


class ForeignLogError(NotRetryableError, RuntimeError):
    """The provider answered with a log that is not what was asked for (another contract, topic or
    wallet, a removed log, a malformed one): nothing from that response is stored."""


class ChainFill(NamedTuple):
    """One fill of one wallet's order, as the chain recorded it."""

    wallet: str
    tx_hash: str
    log_index: int
    block_number: int
    block_ts: int | None  # the log's blockTimestamp when the provider sends it; else looked up
    exchange: str
    era: str
    order_hash: str
    taker: str
    role: str  # "maker" (a resting order of the wallet) | "taker" (the wallet's taker order)
    side: str
    token_id: str  # decimal
    size: int  # tokens, micro-units
    usdc: int  # collateral, micro-units
    price: int  # micro-units, half-even
    fee: int  # as emitted, base units


def wallet_topic(wallet: str) -> str:
    """An address as a 32-byte topic (the form ``eth_getLogs`` matches indexed addresses in)."""
    return "0x" + "0" * 24 + wallet.lower()[2:]


def hex_int(value: Any, field: str) -> int:
    """A JSON-RPC quantity (``0x``-hex string; some providers send plain integers)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.startswith(("0x", "0X")):
        try:
            return int(value, 16)
        except ValueError:
            pass
    raise ForeignLogError(f"the provider sent {field}={value!r}, not a hex quantity")


def price_micro(usdc: int, size: int) -> int:
    """Collateral per token in micro-units, rounded half-even (0 for a zero size)."""
    if size <= 0:
        return 0
    quotient, remainder = divmod(usdc * MICRO, size)
    if 2 * remainder > size or (2 * remainder == size and quotient % 2):
        quotient += 1
    return quotient


def _topic_address(topic: Any, what: str) -> str:
    if not isinstance(topic, str) or len(topic) != 66 or not topic.lower().startswith("0x" + "0" * 24):
        raise ForeignLogError(f"the provider sent {what} topic {topic!r}, not a 32-byte address word")
    return "0x" + topic[-40:].lower()


def _side_amounts(layout: Layout, values: Mapping[str, Any]) -> tuple[str, int, int, int]:
    """(side, token id, size, usdc) by the layout's rule."""
    maker_amount, taker_amount = values["makerAmountFilled"], values["takerAmountFilled"]
    if layout.side_rule == "asset_ids":
        maker_asset, taker_asset = values["makerAssetId"], values["takerAssetId"]
        if maker_asset == 0 and taker_asset != 0:
            return "BUY", taker_asset, taker_amount, maker_amount
        if taker_asset == 0 and maker_asset != 0:
            return "SELL", maker_asset, maker_amount, taker_amount
        raise ForeignLogError(
            f"{layout.name} log with makerAssetId={maker_asset} takerAssetId={taker_asset}: exactly one must be 0 "
            "(collateral); not a collateral fill"
        )
    side = values["side"]
    if side not in (0, 1):
        raise ForeignLogError(f"{layout.name} log with side={side}: must be 0 (BUY) or 1 (SELL)")
    if side == 0:
        return "BUY", values["tokenId"], taker_amount, maker_amount
    return "SELL", values["tokenId"], maker_amount, taker_amount


def decode_log(log: Any, config: ChainConfig, wallet: str) -> ChainFill:
    """The wallet's fill in ``log`` (an ``eth_getLogs`` result entry); ``ForeignLogError`` otherwise."""
    if not isinstance(log, Mapping):
        raise ForeignLogError(f"the provider sent a log that is not a JSON object: {str(log)[:200]!r}")
    address = str(log.get("address") or "").lower()
    era = config.era_of(address)
    topics = log.get("topics")
    if era is None:
        raise ForeignLogError(f"the provider sent a log of contract {address or '?'}, which is no configured exchange")
    if not isinstance(topics, list) or len(topics) != 4:
        raise ForeignLogError(f"the provider sent a log of {address} with topics {topics!r}; OrderFilled has 4")
    layout = config.layouts.get(str(topics[0]).lower())
    if layout is None:
        raise ForeignLogError(f"the provider sent a log of {address} with topic0 {topics[0]}, no configured OrderFilled")
    maker = _topic_address(topics[2], "maker")
    if maker != wallet:
        raise ForeignLogError(f"the provider sent a fill of maker {maker} when asked for wallet {wallet}")
    if log.get("removed"):
        raise ForeignLogError(f"the provider sent a removed (reorged) log of {address} in tx {log.get('transactionHash')}")
    tx = str(log.get("transactionHash") or "").lower()
    if len(tx) != 66 or not tx.startswith("0x"):
        raise ForeignLogError(f"the provider sent a log without a transaction hash ({tx!r})")
    data = str(log.get("data") or "")
    try:
        decoded = abi_decode(list(layout.types), bytes.fromhex(data.removeprefix("0x")))
    except (DecodingError, ValueError) as err:
        raise ForeignLogError(f"log {tx}:{log.get('logIndex')} data does not decode as {layout.name}: {err}") from None
    values = dict(zip(layout.names, decoded))
    side, token, size, usdc = _side_amounts(layout, values)
    fee = values["fee"]
    if max(size, usdc, fee) > MAX_MICRO:
        raise ForeignLogError(f"log {tx}:{log.get('logIndex')} amounts exceed {MAX_MICRO} base units: {size}, {usdc}, {fee}")
    taker = _topic_address(topics[3], "taker")
    timestamp = log.get("blockTimestamp")
    return ChainFill(
        wallet=wallet,
        tx_hash=tx,
        log_index=hex_int(log.get("logIndex"), "logIndex"),
        block_number=hex_int(log.get("blockNumber"), "blockNumber"),
        block_ts=hex_int(timestamp, "blockTimestamp") if timestamp is not None else None,
        exchange=address,
        era=era.name,
        order_hash=str(topics[1]).lower(),
        taker=taker,
        role="taker" if taker in config.exchanges else "maker",
        side=side,
        token_id=str(token),
        size=size,
        usdc=usdc,
        price=price_micro(usdc, size),
        fee=fee,
    )
