"""A Polygon JSON-RPC endpoint consistent with the emulator's fills, with switchable provider limits
and reconciliation faults (``POST /rpc``; Gamma ``GET /markets`` for token -> market).

Blocks: one every 2 s from ``GENESIS_S``, plus one at every odd second that holds a fill, so every
fill's block timestamp is the second the Data API serves (block ``n`` is the ``n``-th element of the
merged, sorted timeline). Before ``CUTOVER_S`` (2026-04-28) fills are V1 ``OrderFilled`` logs of the
V1 exchanges, after it V2 logs of the V2 exchanges (``shared/polymarket-api.md`` §6.1-6.3).

Each fill is one match in its transaction: the wallet's ``OrderFilled`` row (maker = the wallet;
taker = the exchange when the wallet's order was the taker order, else the counterparty), the
counterparty's row and ``OrdersMatched``, in the contract's order (maker rows, taker row, matched).
Log indexes run over the block; two identical fills of one transaction are two logs. A taker fill
pays a fee of 0.5 % of its collateral (kept in the witness; not served by the Data API).

``ChainSettings`` (``POST /__emulator/chain``, ``make_server(chain={...})``; ``{}`` = all off):

- provider limits: ``range_cap`` (blocks per ``eth_getLogs``; ``range_style`` words the error as
  QuickNode "limited to a N range", PublicNode "exceed maximum block range: N" or without a number),
  ``result_cap`` (logs per answer; ``result_hint`` adds Infura's -32005 "Try with this block range
  [0x…, 0x…]"), ``rate_limit`` (requests per ``rate_window_s``, 10 s: HTTP 429 with Retry-After, or a
  -32005 in a 200 with ``rate_limit_in_body``), ``finalized_tag`` (false: the tag is unknown), ``log_timestamps``
  (false: logs carry no ``blockTimestamp``), ``finality_depth``;
- hostile answers: ``foreign_logs`` (every answer adds a counterparty's fill), ``same_error`` (every
  ``eth_getLogs`` is refused as too large, whatever its span), ``empty_answers`` (no ``result``);
- reconciliation faults, per wallet (address or index as a string) and count: ``api_omits`` (the
  chain has fills the Data API never served), ``api_resizes`` (the chain's size is one share more
  than the served one), ``api_merges`` (a served row is two fills of one order on chain),
  ``api_omits_below_min`` (chain-only fills of 0.005 shares: below the Data API v2 minimum size), and
  ``api_omits_below_min_in_tx`` (the same, each in the transaction of a served fill, with its token and side:
  one match that also filled a tiny order of the wallet's).

Set faults before the first request: chain-only fills add blocks and renumber the blocks after them.
``Chain.wallet_fills(wallet)`` is the chain's truth; ``Chain.faults_applied`` names the transactions.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import math
import random
import socket
import threading
import time
from collections import defaultdict, deque
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import parse_qs, urlsplit

from eth_abi import encode as abi_encode

if TYPE_CHECKING:
    from polymarket_emulator.server import _Handler

RPC_PATH = "/rpc"
CHAIN_ID = 137
GENESIS_S = 1_600_000_000  # block 0 (even: grid blocks sit at even offsets)
CUTOVER_S = 1_777_334_400  # 2026-04-28T00:00Z: V1 logs before, V2 after
V1_EXCHANGES = ("0x4bfb41d5b3570defd03c39a9a4d8de6bd8b8982e", "0xc5d563a36ae78145c45a50134d48a1215220f80a")
V2_EXCHANGES = ("0xe111180000d2663c0091e4f400237545b87b996b", "0xe2222d279d744050d28e00520010520000310f59")
ORDER_FILLED = {
    "v1": "0xd0a08e8c493f9c94f29311604c9de1b4e8c8d4c06bd0c789af57f2d65bfec0f6",
    "v2": "0xd543adfd945773f1a62f74f0ee55a5e3b9b1a28262980ba90b1a89f2ea84d8ee",
}
ORDERS_MATCHED = {
    "v1": "0x63bf4d16b7fa898ef4c4b2b6d90fd201e9c56313b65638af6088d149d2ce956c",
    "v2": "0x174b3811690657c217184f89418266767c87e4805d09680c39fc9c031c0cab7c",
}
MICRO = 1_000_000
WINDOW_S = 10.0


@dataclass
class ChainSettings:
    range_cap: int | None = None
    range_style: str = "quicknode"  # quicknode | publicnode | plain
    result_cap: int | None = None
    result_hint: bool = True
    rate_limit: int | None = None
    rate_window_s: float = WINDOW_S  # the rate limit's sliding window
    rate_limit_in_body: bool = False
    finalized_tag: bool = True
    log_timestamps: bool = True
    finality_depth: int = 16
    foreign_logs: bool = False
    same_error: bool = False
    empty_answers: bool = False
    api_omits: dict[str, int] = field(default_factory=dict)
    api_resizes: dict[str, int] = field(default_factory=dict)
    api_merges: dict[str, int] = field(default_factory=dict)
    api_omits_below_min: dict[str, int] = field(default_factory=dict)  # chain-only fills of 0.005 shares
    api_omits_below_min_in_tx: dict[str, int] = field(default_factory=dict)  # the same, in a served fill's tx
    seed: int = 0

    def __post_init__(self) -> None:
        if self.range_style not in ("quicknode", "publicnode", "plain"):
            raise ValueError("range_style must be quicknode, publicnode or plain")


class ChainFill(NamedTuple):
    """One fill of a wallet's order as the chain holds it (amounts in micro-units)."""

    wallet: str
    tx: str
    ts: int
    token: str
    side: str
    size: int
    usdc: int
    fee: int
    role: str  # "maker" | "taker": which order of the match was the wallet's
    order_hash: str
    block: int = -1
    log_index: int = -1


def _hash(*parts: object, size: int = 32) -> str:
    return "0x" + hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[: 2 * size]


def _word(value: int) -> str:
    return "0x" + f"{value:064x}"


def _address_topic(address: str) -> str:
    return "0x" + "0" * 24 + address[2:]


def _micro(value: float) -> int:
    return round(value * MICRO)


class Chain:
    """The chain derived from a dataset (rebuilt when its fills or the settings change)."""

    def __init__(self, dataset: Any, settings: ChainSettings | None = None) -> None:
        self.dataset = dataset
        self.settings = settings or ChainSettings()
        self._lock = threading.Lock()
        self._version: tuple | None = None
        self._hits: deque[float] = deque()
        self._applied: dict[str, dict[str, list[str]]] = {}
        self._fills: dict[str, list[ChainFill]] = {}
        self._extra: list[int] = []  # odd-offset seconds that hold fills (their own blocks)
        self._logs: list[tuple[int, int, dict]] = []  # (block, log index, log), every log, sorted
        self._by_maker: dict[str, list[tuple[int, int, dict]]] = {}

    # --- settings ------------------------------------------------------------------------------
    def configure(self, settings: ChainSettings) -> None:
        with self._lock:
            self.settings, self._version = settings, None
            self._hits.clear()

    # --- the chain's content -------------------------------------------------------------------
    def _wallet(self, key: str) -> str:
        wallets = self.dataset.wallets
        return wallets[int(key)] if key.isdigit() else key.lower()

    def _build(self) -> None:
        version = (tuple(id(self.dataset.visible_fills(w)) for w in self.dataset.wallets), id(self.settings))
        if version == self._version:
            return
        s = self.settings
        fills: dict[str, list[ChainFill]] = {}
        kinds = ("omitted", "resized", "merged", "below_min")
        applied: dict[str, dict[str, list[str]]] = defaultdict(lambda: {k: [] for k in kinds})
        for wallet in self.dataset.wallets:
            base: list[ChainFill] = []
            for i, f in enumerate(reversed(self.dataset.visible_fills(wallet))):  # oldest first: stable order
                size, price = _micro(f.size), _micro(f.price)
                usdc = size * price // MICRO
                fee = usdc // 200 if f.role == "taker" else 0
                order = _hash("order", wallet, f.tx, i)
                base.append(ChainFill(wallet, f.tx, f.ts, f.asset, f.side, size, usdc, fee, f.role, order))
            fills[wallet] = base
        for key, count in s.api_resizes.items():
            wallet, rng = self._wallet(key), random.Random(f"resize:{s.seed}:{key}")
            chosen = rng.sample(range(len(fills[wallet])), min(count, len(fills[wallet])))
            for i in chosen:
                f = fills[wallet][i]
                size = f.size + MICRO
                fills[wallet][i] = f._replace(size=size, usdc=f.usdc + f.usdc * MICRO // f.size if f.size else 0)
                applied[wallet]["resized"].append(f.tx)
        for key, count in s.api_merges.items():
            wallet, rng = self._wallet(key), random.Random(f"merge:{s.seed}:{key}")
            candidates = [i for i, f in enumerate(fills[wallet]) if f.size >= 20_000 and f.tx not in applied[wallet]["resized"]]
            for i in sorted(rng.sample(candidates, min(count, len(candidates))), reverse=True):
                f = fills[wallet][i]
                part = f.size // 2 // 10_000 * 10_000  # whole cents of a share, so both halves' collateral is exact
                usdc = part * (f.usdc * MICRO // f.size) // MICRO
                fills[wallet][i : i + 1] = [
                    f._replace(size=part, usdc=usdc, fee=f.fee // 2),
                    f._replace(size=f.size - part, usdc=f.usdc - usdc, fee=f.fee - f.fee // 2),
                ]
                applied[wallet]["merged"].append(f.tx)
        omits = [(key, count, False) for key, count in s.api_omits.items()]
        for key, count, tiny in omits + [(key, count, True) for key, count in s.api_omits_below_min.items()]:
            wallet, rng = self._wallet(key), random.Random(f"omit:{s.seed}:{key}:{tiny}")
            for k in range(count):
                ref = fills[wallet][rng.randrange(len(fills[wallet]))]
                market = self.dataset.markets[rng.randrange(len(self.dataset.markets))]
                size = 5_000 if tiny else rng.randrange(1, 50_000) * 10_000  # tiny: below v2's 0.01-share minimum
                price = rng.randrange(10, 990) * 1_000
                tx = _hash("omitted", wallet, k, s.seed, tiny)
                role = rng.choice(("maker", "taker"))
                usdc = size * price // MICRO
                omitted = ChainFill(
                    wallet, tx, ref.ts + 1 + k, market.tokens[k % 2], rng.choice(("BUY", "SELL")), size, usdc,
                    usdc // 200 if role == "taker" else 0, role, _hash("order", wallet, tx),
                )  # fmt: skip
                fills[wallet].append(omitted)
                applied[wallet]["below_min" if tiny else "omitted"].append(tx)
        for key, count in s.api_omits_below_min_in_tx.items():
            wallet, rng = self._wallet(key), random.Random(f"tiny-in-tx:{s.seed}:{key}")
            touched = set(applied[wallet]["resized"] + applied[wallet]["merged"])
            candidates = [i for i, f in enumerate(fills[wallet]) if f.tx not in touched and f.size]
            for i in sorted(rng.sample(candidates, min(count, len(candidates)))):
                ref = fills[wallet][i]
                usdc = 5_000 * (ref.usdc * MICRO // ref.size) // MICRO
                tiny = ref._replace(size=5_000, usdc=usdc, fee=0, role="maker", order_hash=_hash("order", wallet, ref.tx, "tiny"))
                fills[wallet].append(tiny)
                applied[wallet]["below_min"].append(ref.tx)
        self._extra = sorted({f.ts for fs in fills.values() for f in fs if (f.ts - GENESIS_S) % 2})
        self._assign_logs(fills)
        self._applied = {w: dict(v) for w, v in applied.items()}
        self._version = version

    def _assign_logs(self, fills: dict[str, list[ChainFill]]) -> None:
        """Blocks, log indexes and the logs themselves (the wallet's row, the counterparty's, OrdersMatched)."""
        by_block: dict[int, list[ChainFill]] = defaultdict(list)
        for wallet_fills in fills.values():
            for f in wallet_fills:
                by_block[self.block_of(f.ts)].append(f)
        logs: list[tuple[int, int, dict]] = []
        placed: dict[str, list[ChainFill]] = defaultdict(list)
        for block in sorted(by_block):
            index = 0
            txs = sorted({f.tx for f in by_block[block]})
            for f in sorted(by_block[block], key=lambda f: (f.tx, f.wallet, f.order_hash)):
                for log in self._match_logs(f, block, txs.index(f.tx)):
                    log["logIndex"] = hex(index)
                    if log["topics"][0] == ORDER_FILLED[self.era(f.ts)] and log["topics"][2] == _address_topic(f.wallet):
                        placed[f.wallet].append(f._replace(block=block, log_index=index))
                    logs.append((block, index, log))
                    index += 1
        self._fills = {w: placed.get(w, []) for w in fills}
        self._logs = logs
        by_maker: dict[str, list[tuple[int, int, dict]]] = defaultdict(list)
        for entry in logs:
            if len(entry[2]["topics"]) == 4:
                by_maker[entry[2]["topics"][2]].append(entry)
        self._by_maker = dict(by_maker)

    @staticmethod
    def era(ts: int) -> str:
        return "v1" if ts < CUTOVER_S else "v2"

    def _match_logs(self, f: ChainFill, block: int, tx_index: int) -> list[dict]:
        era = self.era(f.ts)
        exchange = (V1_EXCHANGES if era == "v1" else V2_EXCHANGES)[int(f.token) % 2]
        other = _hash("counterparty", f.tx, f.order_hash, size=20)
        other_order = _hash("order", other, f.tx, f.order_hash)
        other_side = "SELL" if f.side == "BUY" else "BUY"
        wallet_taker = exchange if f.role == "taker" else other
        other_taker = exchange if f.role == "maker" else f.wallet
        mine = self._filled(era, exchange, f.order_hash, f.wallet, wallet_taker, f.side, f.token, f.size, f.usdc, f.fee)
        theirs = self._filled(era, exchange, other_order, other, other_taker, other_side, f.token, f.size, f.usdc, 0)
        if f.role == "taker":
            taker_order, taker_maker, taker_side = f.order_hash, f.wallet, f.side
        else:
            taker_order, taker_maker, taker_side = other_order, other, other_side
        matched = {
            "address": exchange,
            "topics": [ORDERS_MATCHED[era], taker_order, _address_topic(taker_maker)],
            "data": "0x" + abi_encode(*self._amount_words(era, taker_side, f.token, f.size, f.usdc)).hex(),
        }
        ordered = [mine, theirs] if f.role == "maker" else [theirs, mine]  # maker rows, then the taker row
        envelope = {
            "blockNumber": hex(block),
            "blockHash": _hash("block", block),
            "transactionHash": f.tx,
            "transactionIndex": hex(tx_index),
            "removed": False,
        }
        return [{**log, **envelope} for log in (*ordered, matched)]

    @staticmethod
    def _amount_words(era: str, side: str, token: str, size: int, usdc: int) -> tuple[list[str], list[Any]]:
        """ABI types and values of the amounts part: a BUY order gives collateral for tokens."""
        maker_amount, taker_amount = (usdc, size) if side == "BUY" else (size, usdc)
        if era == "v1":
            assets = (0, int(token)) if side == "BUY" else (int(token), 0)
            return ["uint256"] * 4, [*assets, maker_amount, taker_amount]
        return ["uint8", "uint256", "uint256", "uint256"], [0 if side == "BUY" else 1, int(token), maker_amount, taker_amount]

    def _filled(self, era, exchange, order, maker, taker, side, token, size, usdc, fee) -> dict:  # noqa: ANN001
        types, values = self._amount_words(era, side, token, size, usdc)
        types, values = types + ["uint256"], values + [fee]
        if era == "v2":
            types, values = types + ["bytes32", "bytes32"], values + [b"\0" * 32, b"\0" * 32]
        return {
            "address": exchange,
            "topics": [ORDER_FILLED[era], order, _address_topic(maker), _address_topic(taker)],
            "data": "0x" + abi_encode(types, values).hex(),
        }

    # --- blocks --------------------------------------------------------------------------------
    def block_of(self, ts: int) -> int:
        """The block at second ``ts`` (a grid second or one holding a fill)."""
        return (ts - GENESIS_S + 1) // 2 + bisect.bisect_left(self._extra, ts)

    def _count_to(self, ts: int) -> int:
        """Blocks with timestamp <= ``ts``."""
        return (ts - GENESIS_S) // 2 + 1 + bisect.bisect_right(self._extra, ts) if ts >= GENESIS_S else 0

    def timestamp_of(self, block: int) -> int:
        lo, hi = GENESIS_S, GENESIS_S + 2 * block
        while lo < hi:  # the first second whose count reaches block + 1
            mid = (lo + hi) // 2
            if self._count_to(mid) >= block + 1:
                hi = mid
            else:
                lo = mid + 1
        return lo

    def head(self) -> int:
        return self._count_to(int(time.time())) - 1

    def finalized(self) -> int:
        return max(0, self.head() - self.settings.finality_depth)

    def header(self, block: int) -> dict:
        return {
            "number": hex(block),
            "hash": _hash("block", block),
            "parentHash": _hash("block", block - 1),
            "timestamp": hex(self.timestamp_of(block)),
            "transactions": [],
        }

    # --- truth ---------------------------------------------------------------------------------
    @property
    def faults_applied(self) -> dict[str, dict[str, list[str]]]:
        """Per wallet, the transactions each reconciliation fault touched (omitted, resized, merged, below_min)."""
        with self._lock:
            self._build()
            return self._applied

    def wallet_fills(self, wallet: str) -> list[ChainFill]:
        """The wallet's fills as the chain holds them, oldest first (with block and log index)."""
        with self._lock:
            self._build()
            return list(self._fills.get(wallet.lower(), []))

    # --- JSON-RPC ------------------------------------------------------------------------------
    def throttled(self) -> float | None:
        """Seconds until the request would fit the ``rate_limit`` window; None when it fits (and counts)."""
        limit = self.settings.rate_limit
        if not limit:
            return None
        now = time.monotonic()
        with self._lock:
            window = self.settings.rate_window_s
            while self._hits and now - self._hits[0] >= window:
                self._hits.popleft()
            if len(self._hits) >= limit:
                return window - (now - self._hits[0])
            self._hits.append(now)
        return None

    def answer(self, request: Any, stats: Any) -> dict:
        """One JSON-RPC request's answer (an envelope)."""
        if not isinstance(request, dict) or "method" not in request:
            return {"jsonrpc": "2.0", "id": None, "error": {"code": -32600, "message": "invalid request"}}
        rid, method, params = request.get("id"), request["method"], request.get("params") or []
        stats[f"rpc:{method}"] += 1
        with self._lock:
            self._build()
            try:
                result = self._call(method, params, stats)
            except _RpcFaultError as fault:
                stats["rpc:errors"] += 1
                return {"jsonrpc": "2.0", "id": rid, "error": fault.error}
        if result is _NO_RESULT:
            return {"jsonrpc": "2.0", "id": rid}
        return {"jsonrpc": "2.0", "id": rid, "result": result}

    def _call(self, method: str, params: list, stats: Any) -> Any:
        if method == "eth_chainId":
            return hex(CHAIN_ID)
        if method == "eth_blockNumber":
            return hex(self.head())
        if method == "eth_getBlockByNumber":
            return self._get_block(params[0] if params else "latest")
        if method == "eth_getLogs":
            return self._get_logs(params[0] if params else {}, stats)
        raise _RpcFaultError(-32601, f"the method {method} does not exist/is not available")

    def _block_number(self, tag: Any) -> int | None:
        if tag in ("latest", "pending", None):
            return self.head()
        if tag in ("finalized", "safe"):
            if not self.settings.finalized_tag:
                raise _RpcFaultError(-32602, f"invalid argument 0: unknown block tag {tag!r}")
            return self.finalized()
        if tag == "earliest":
            return 0
        try:
            return int(str(tag), 16)
        except ValueError:
            raise _RpcFaultError(-32602, f"invalid argument 0: hex string without 0x prefix ({tag!r})") from None

    def _get_block(self, tag: Any) -> dict | None:
        number = self._block_number(tag)
        return None if number is None or number > self.head() else self.header(number)

    def _get_logs(self, filter_: dict, stats: Any) -> Any:
        s = self.settings
        if s.empty_answers:
            return _NO_RESULT
        lo = self._block_number(filter_.get("fromBlock", "latest"))
        hi = self._block_number(filter_.get("toBlock", "latest"))
        assert lo is not None and hi is not None
        span = hi - lo + 1
        if s.same_error or (s.range_cap and span > s.range_cap):
            stats["rpc:range_refused"] += 1
            cap = s.range_cap or 1
            message = {
                "quicknode": f"eth_getLogs is limited to a {cap:,} range",
                "publicnode": f"exceed maximum block range: {cap}",
                "plain": "block range too large",
            }[s.range_style]
            raise _RpcFaultError(-32614 if s.range_style == "quicknode" else -32000, message)
        logs = self._matching(filter_, lo, hi)
        if s.result_cap and len(logs) > s.result_cap:
            stats["rpc:results_refused"] += 1
            message = f"query returned more than {s.result_cap} results"
            if s.result_hint:
                last = max(lo, logs[s.result_cap][0] - 1)
                message += f". Try with this block range [{hex(lo)}, {hex(last)}]."
            raise _RpcFaultError(-32005, message)
        out = [dict(log) for _, _, log in logs]
        if s.foreign_logs and out and (foreign := self._foreign(lo, hi, logs)) is not None:
            out.append(dict(foreign))
        for log in out:
            if s.log_timestamps:
                log["blockTimestamp"] = hex(self.timestamp_of(int(log["blockNumber"], 16)))
        return out

    def _matching(self, filter_: dict, lo: int, hi: int) -> list[tuple[int, int, dict]]:
        """Logs in ``lo..hi`` of the filter's addresses whose topics match (None = any, a list = any of)."""
        topics = [t if t is None or isinstance(t, str) else list(t) for t in filter_.get("topics") or []]
        wanted = [None if t is None else {t.lower()} if isinstance(t, str) else {x.lower() for x in t} for t in topics]
        if len(wanted) > 2 and wanted[2] is not None:  # by maker: the index the scan's filters use
            candidates = sorted(e for maker in wanted[2] for e in self._by_maker.get(maker, []))
        else:
            candidates = self._logs
        raw = filter_.get("address")
        addresses = {raw.lower()} if isinstance(raw, str) else {a.lower() for a in raw or []}
        out = []
        for block, index, log in candidates[bisect.bisect_left(candidates, (lo, -1, {})) :]:
            if block > hi:
                break
            if addresses and log["address"] not in addresses:
                continue
            if all(want is None or (i < len(log["topics"]) and log["topics"][i] in want) for i, want in enumerate(wanted)):
                out.append((block, index, log))
        return out

    def _foreign(self, lo: int, hi: int, served: list[tuple[int, int, dict]]) -> dict | None:
        """Another maker's fill in the range (what a provider that ignores the maker topic would add)."""
        makers = {log["topics"][2] for _, _, log in served}
        start = bisect.bisect_left(self._logs, (lo, -1, {}))
        for block, _, log in self._logs[start:]:
            if block > hi:
                return None
            if len(log["topics"]) == 4 and log["topics"][2] not in makers:
                return log
        return None

    # --- Gamma ---------------------------------------------------------------------------------
    def markets_for(self, token_ids: list[str]) -> list[dict]:
        wanted = set(token_ids)
        return [
            {
                "id": str(i),
                "conditionId": m.condition_id,
                "question": m.title,
                "clobTokenIds": json.dumps(list(m.tokens)),
                "outcomes": json.dumps(["Yes", "No"]),
                "closed": False,
            }
            for i, m in enumerate(self.dataset.markets)
            if wanted & set(m.tokens)
        ]


class _RpcFaultError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.error = {"code": code, "message": message}


_NO_RESULT = object()


# --- routes (called from server.py) ------------------------------------------------------------
def chain_of(server: Any) -> Chain:
    """The server's chain, created on first use."""
    chain = getattr(server, "chain", None)
    if chain is None:
        chain = server.chain = Chain(server.state.dataset)
    return chain


def handle_rpc(handler: _Handler, body: Any) -> None:
    """``POST /rpc``: one request or a batch, after the latency and the rate limit."""
    server, stats = handler.server, handler.server.state.stats
    # headers and body go out in two writes: without TCP_NODELAY the body waits ~40 ms for the client's
    # delayed ACK of the headers on every keep-alive request
    handler.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if server.latency_s > 0:
        time.sleep(server.latency_s)
    chain = chain_of(server)
    stats["rpc"] += 1
    wait = chain.throttled()
    if wait is not None:
        stats["rpc:429"] += 1
        if chain.settings.rate_limit_in_body:
            rid = body.get("id") if isinstance(body, dict) else None
            error = {"code": -32005, "message": "project ID request rate exceeded"}
            return handler._send(200, {"jsonrpc": "2.0", "id": rid, "error": error})
        error = {"jsonrpc": "2.0", "error": {"code": 429, "message": "Too Many Requests"}}
        return handler._send(429, error, {"Retry-After": str(max(1, math.ceil(wait)))})
    if isinstance(body, list):
        return handler._send(200, [chain.answer(r, stats) for r in body])
    handler._send(200, chain.answer(body, stats))


def handle_control(handler: _Handler, body: Any) -> None:
    """``POST /__emulator/chain``: replace the settings (``{}`` = all off)."""
    try:
        settings = ChainSettings(**body)
    except (TypeError, ValueError) as err:
        return handler._error(400, f"bad chain settings: {err}")
    chain = chain_of(handler.server)
    chain.configure(settings)
    handler._send(200, asdict(settings))


def describe(handler: _Handler) -> None:
    """``GET /__emulator/chain``: settings, head, finalized block and the faults applied."""
    chain = chain_of(handler.server)
    with chain._lock:
        chain._build()
        body = {
            "settings": asdict(chain.settings),
            "head": chain.head(),
            "finalized": chain.finalized(),
            "cutover_block": chain.block_of(CUTOVER_S),
            "faults_applied": chain._applied,
        }
    handler._send(200, body)


def gamma_markets(handler: _Handler) -> None:
    """Gamma ``GET /markets?clob_token_ids=…`` (repeated or comma-separated): the markets holding them."""
    values = parse_qs(urlsplit(handler.path).query).get("clob_token_ids", [])
    tokens = [t for value in values for t in value.split(",") if t]
    handler._send(200, chain_of(handler.server).markets_for(tokens))
