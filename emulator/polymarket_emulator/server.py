"""A local HTTP emulator of the Polymarket endpoints the pipeline uses (127.0.0.1 only).

Contract followed (see ``shared/polymarket-api.md``):

- Data API ``GET /v2/trades``: the keyset feed with cursors, errors and faults of ``data_v2.py``.
- Data API ``GET /trades``: bare JSON array, camelCase, numbers for size/price, newest first;
  ``user`` must be an address; ``limit`` default 100 clamped to 10,000; ``offset`` past 10,000 is a
  400; ``takerOnly`` defaults to true; ``start``/``end`` in seconds (``end`` inclusive here).
- CLOB ``GET /data/trades``: needs the five ``POLY_*`` L2 headers with a valid HMAC over
  ``timestamp + METHOD + path`` (401 ``Unauthorized/Invalid api key`` otherwise, Bearer included);
  only the key owner's trades; cursor = base64(offset), first ``MA==``, last page ``LTE=``;
  envelope ``{limit, count, next_cursor, data}``, 100 per page.
- Gamma ``GET /public-profile?address=``: 200 with ``proxyWallet``, 404 when unknown.
- Rate limits per path over a 10 s sliding window (the published ones, scalable); excess -> 429
  with ``Retry-After`` (seconds).
- ``latency_s``: every API response waits that long before it is handled (a real round trip);
  the server is threaded, so concurrent requests overlap.
- Fault injection through ``POST /__emulator/faults``: HTTP status (5xx), slow responses,
  malformed JSON, a 200 whose JSON is an error object (``error_body``), optionally only for one
  ``user`` (the ``user``, ``maker_address`` or Gamma ``address`` asked for) and after N matching requests.

- Paging faults through ``POST /__emulator/paging`` (or ``make_server(paging=...)``): how the real
  ``/trades`` is *reported* to page (``polymarket-api.md`` §3.5), each off by default, deterministic:

  ``shift_rows`` (+ ``shift_by`` = 3, ``shift_identical``, ``shift_ts``, ``shift_times``)
      after every served response for a user, ``shift_by`` new taker fills arrive for that user at its
      newest second + 1 (``shift_ts="now"``: now), so the next page repeats the previous page's last
      ``shift_by`` rows ("new fills arriving during paging shift every later offset", §3.5 Order).
      ``shift_identical``: the new fills are identical copies in one second (a bot burst).
      ``shift_times``: how many responses shift (null = all). The fills join the data set truth.
  ``shuffle_ties`` (+ ``seed``)
      rows sharing one second come in a new order on every request (seeded by ``seed`` and the
      request counter); seconds stay newest first ("nothing documents the order of rows that share
      one second", §3.5 Order).
  ``offset_ignored_after``: N
      ``offset >= N`` is silently served as offset 0 ("would just repeat same data beyond the
      offset", qualiaenjoyer/polymarket-apis issue 4; "Repeated hash", wasabipesto/themis issue 22).
  ``offset_400_after``: N
      400 for ``offset > N`` ("rejects offsets above 3,000", Aurelgroh/polymarket_data; §3.5).
  ``limit_max``: N
      ``limit`` silently clamped to N: a short page that is not the end (older docs: max 500, §3.1).
  ``ignore_end``
      ``end`` is ignored: rows newer than ``end`` are served (issue 12: "``end`` may be ignored").
  ``end_exclusive`` / ``start_exclusive``
      ``end``/``start`` exclusive instead of inclusive (the real semantics are unconfirmed, §3.1).
  ``drop_user_filter``: true or a wallet
      the ``user`` filter is not applied (for every user, or only for that wallet's requests): rows of every
      wallet in the window are served, as a global feed would (issue 19: "the user filter dropped").
  ``clob_unhashed``: N (+ ``clob_unhashed_skip``: K, ``clob_unhashed_as``)
      N CLOB trades of the key owner (after its K newest fills) are not final until ``POST /__emulator/settle``:
      ``no_hash`` (default) without a transaction hash, status MATCHED (fill-and-kill orders since 2026-07-24,
      §1.5); ``mined`` with their hash, status MINED; ``reorged`` status MINED in a transaction that is then
      reorged away (another hash than the one they settle in, §7).
  ``clob_match_early_s``: N
      CLOB ``match_time`` is N seconds before the block time the Data API serves for the same fill (a match
      precedes its block; whether the two ever differ live is unconfirmed, §1.4 and §3.6).
  ``clob_ignore_maker``
      CLOB ``/data/trades`` ignores ``maker_address``: the key owner's trades are served whatever wallet
      is asked for (whether the real API rejects, empties or ignores another wallet there is
      unconfirmed, §1.6).
  ``apply_to_clob`` (default true)
      ``shift_rows`` and ``shuffle_ties`` apply to CLOB ``/data/trades`` too (the key owner's fills;
      real CLOB ordering is unconfirmed, §1.3).

  ``POST /__emulator/paging`` replaces all settings (missing keys = default, ``{}`` = all off) and
  restarts the request counter; ``GET`` returns them; ``/__emulator/reset`` turns them off.
- Bursts: ``build_dataset(burst_fills=...)`` or ``POST /__emulator/burst`` add K fills of one wallet in
  ONE second with a few distinct contents (see :meth:`Dataset.add_burst`).

Control endpoints (``/__emulator/...``): ``health``, ``dataset``, ``stats``, ``paging`` (GET);
``faults``, ``paging``, ``burst``, ``reset``, ``release-late``, ``new-fills`` (POST, JSON body).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import random
import re
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

from polymarket_emulator import chain as chain_routes
from polymarket_emulator import data_v2
from polymarket_emulator.dataset import Dataset, EmuFill

ADDRESS_RE = re.compile(r"^0x[0-9a-fA-F]{40}$")
DATA_API_LIMIT_MAX = 10_000
DATA_API_OFFSET_CAP = 10_000
CLOB_PAGE = 100
PUBLISHED_LIMITS = {"/trades": 200, "/data/trades": 500, "/public-profile": 4000}
SHARED_LIMITS = {"/v2/trades": "/trades"}
WINDOW_S = 10.0


@dataclass
class ClobCredentials:
    """The one L2 key the emulated CLOB knows; ``funder`` is the wallet whose trades it lists."""

    address: str
    api_key: str
    secret: str
    passphrase: str
    funder: str


@dataclass
class Fault:
    path: str
    kind: str = "status"  # status | slow | malformed | error_body (HTTP 200 with a JSON error object)
    status: int = 500
    count: int = 1
    after: int = 0
    user: str | None = None
    delay_s: float = 2.0
    retry_after: float | None = None  # with status 429: the Retry-After header
    seen: int = 0


@dataclass
class Paging:
    """Paging behaviours users report for the real API (module docstring); all off by default.

    They exist so the loader is tested against what it must survive, not only against the docs."""

    shift_rows: bool = False
    shift_by: int = 3
    shift_identical: bool = False
    shift_ts: str = "next"  # "next": the wallet's newest second + 1 | "now"
    shift_times: int | None = None  # responses that shift; None = every one
    shuffle_ties: bool = False
    seed: int = 0
    offset_ignored_after: int | None = None
    offset_400_after: int | None = None
    limit_max: int | None = None
    ignore_end: bool = False
    end_exclusive: bool = False
    start_exclusive: bool = False
    drop_user_filter: bool | str = False
    apply_to_clob: bool = True
    # Data API v2 /v2/trades faults (``data_v2.py`` says what each does)
    v2_empty_pages: int = 0
    v2_reject_cursor_at: int | None = None
    v2_reject_cursor_times: int | None = 1
    v2_ignore_cursor: bool = False
    v2_inclusive_anchor: bool = False
    v2_arrive: int = 0
    v2_arrive_times: int | None = None
    # CLOB trades that arrive first without a transaction hash (polymarket-api.md §1.5)
    clob_unhashed: int = 0
    clob_unhashed_skip: int = 0
    clob_unhashed_as: str = "no_hash"  # or "mined" (its hash, status MINED), "reorged" (a hash it loses, MINED)
    clob_match_early_s: int = 0  # CLOB match_time this many seconds before the block time the Data API serves
    clob_ignore_maker: bool = False  # /data/trades serves the key owner's trades for any maker_address

    def __post_init__(self) -> None:
        if self.shift_ts not in ("next", "now"):
            raise ValueError("shift_ts must be 'next' or 'now'")
        if self.clob_unhashed_as not in ("no_hash", "mined", "reorged"):
            raise ValueError("clob_unhashed_as must be 'no_hash', 'mined' or 'reorged'")

    def drops_user_filter(self, user: str) -> bool:
        """Whether requests for ``user`` get every wallet's rows (``drop_user_filter``)."""
        flag = self.drop_user_filter
        return bool(user) and (flag is True or (isinstance(flag, str) and flag.lower() == user.lower()))


T = TypeVar("T")


def shuffle_ties(rows: list[T], lo: int, hi: int, rng: random.Random, ts: Callable[[T], int]) -> list[T]:
    """A copy of ``rows`` (newest first) with each second overlapping ``rows[lo:hi]`` in a random order.

    Only those seconds: a page stays cheap on a large window, and what the page shows is the same as if
    every second had been shuffled. Seconds keep their newest-first order."""
    rows = list(rows)
    if lo >= len(rows) or hi <= lo:
        return rows
    first, last = lo, min(hi, len(rows))
    while first > 0 and ts(rows[first - 1]) == ts(rows[lo]):
        first -= 1
    while last < len(rows) and ts(rows[last]) == ts(rows[last - 1]):
        last += 1
    i = first
    while i < last:
        j = i
        while j < last and ts(rows[j]) == ts(rows[i]):
            j += 1
        group = rows[i:j]
        rng.shuffle(group)
        rows[i:j] = group
        i = j
    return rows


@dataclass
class EmulatorState:
    dataset: Dataset
    clob: ClobCredentials
    rate_scale: float = 1.0
    faults: list[Fault] = field(default_factory=list)
    paging: Paging = field(default_factory=Paging)
    paging_requests: int = 0  # /trades and /data/trades requests since the paging settings changed
    shifts: int = 0  # responses that added fills under shift_rows
    stats: Counter = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _hits: dict[str, deque] = field(default_factory=dict)

    def throttle(self, path: str) -> float | None:
        """Record a request; return seconds to wait if it exceeds the path's limit (``/v2/trades``
        counts against ``/trades``: the rate-limit page lists no v2 row)."""
        path = SHARED_LIMITS.get(path, path)
        limit = PUBLISHED_LIMITS.get(path)
        if limit is None or self.rate_scale <= 0:
            return None
        limit = max(1, int(limit * self.rate_scale))
        now = time.monotonic()
        with self.lock:
            hits = self._hits.setdefault(path, deque())
            while hits and now - hits[0] >= WINDOW_S:
                hits.popleft()
            if len(hits) >= limit:
                return WINDOW_S - (now - hits[0])
            hits.append(now)
        return None

    def set_paging(self, paging: Paging) -> None:
        with self.lock:
            self.paging, self.paging_requests, self.shifts = paging, 0, 0
            self.unhashed = None

    unhashed: frozenset[str] | None = None  # trade ids served without a hash yet (clob_unhashed)

    def unhashed_trades(self) -> frozenset[str]:
        """``clob_unhashed``: the key owner's fills (skipping the newest ``clob_unhashed_skip``) whose CLOB
        trade has no transaction hash yet, status MATCHED, until ``POST /__emulator/settle``."""
        with self.lock:
            if self.unhashed is None:
                fills = self.dataset.visible_fills(self.clob.funder)
                skip, count = self.paging.clob_unhashed_skip, self.paging.clob_unhashed
                self.unhashed = frozenset(f.trade_id for f in fills[skip : skip + count])
            return self.unhashed

    def tie_rng(self) -> random.Random:
        """A generator for one request's tie order: seeded by ``seed`` and the request counter."""
        with self.lock:
            self.paging_requests += 1
            return random.Random(self.paging.seed * 1_000_003 + self.paging_requests)

    def shift(self, wallet: str) -> None:
        """Under ``shift_rows``: fills arrive for ``wallet`` after a served response (they join the truth)."""
        paging = self.paging
        with self.lock:
            if paging.shift_times is not None and self.shifts >= paging.shift_times:
                return
            self.shifts += 1
        ts = int(time.time()) if paging.shift_ts == "now" else None
        added = self.dataset.arrive(wallet, paging.shift_by, ts, paging.shift_identical)
        self.stats["paging:shift_rows"] += len(added)

    def take_fault(self, path: str, user: str | None) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.path != path or fault.count <= 0:
                    continue
                if fault.user and (user or "").lower() != fault.user.lower():
                    continue
                fault.seen += 1
                if fault.seen <= fault.after:
                    continue
                fault.count -= 1
                return fault
        return None


def hmac_signature(secret: str, timestamp: str, method: str, path: str, body: str = "") -> str:
    """Independent re-implementation of the L2 signature, so the emulator checks the client."""
    digest = hmac.new(base64.urlsafe_b64decode(secret), f"{timestamp}{method}{path}{body}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(digest.digest()).decode()


def data_api_row(fill: EmuFill) -> dict[str, Any]:
    return {
        "proxyWallet": fill.wallet,
        "side": fill.side,
        "asset": fill.asset,
        "conditionId": fill.condition_id,
        "size": fill.size,
        "price": fill.price,
        "timestamp": fill.ts,
        "title": fill.market_title,
        "slug": fill.market_title.lower().replace(" ", "-"),
        "icon": "",
        "eventSlug": "",
        "outcome": fill.outcome,
        "outcomeIndex": fill.outcome_index,
        "name": "",
        "pseudonym": "",
        "bio": "",
        "profileImage": "",
        "profileImageOptimized": "",
        "transactionHash": fill.tx,
    }


def unsettled(trade: dict[str, Any], mode: str) -> dict[str, str]:
    """The fields of a trade that is not final yet (``clob_unhashed_as``): no hash, its hash while MINED, or
    the hash of a transaction that a reorg will drop (it settles in ``trade``'s own)."""
    if mode == "no_hash":
        return {"transaction_hash": "", "status": "MATCHED"}
    if mode == "mined":
        return {"status": "MINED"}
    return {"transaction_hash": "0x" + hashlib.sha256(f"reorged{trade['id']}".encode()).hexdigest(), "status": "MINED"}


def clob_trades(fills: list[EmuFill], creds: ClobCredentials) -> list[dict[str, Any]]:
    """The key owner's fills as CLOB trade objects (taker: top level; maker: in maker_orders)."""
    trades = []
    seen: Counter = Counter()
    for fill in fills:
        seen[fill.trade_id] += 1
        trade_id = f"{fill.trade_id}-{seen[fill.trade_id]}"  # identical fills are separate trades
        other = "0x" + hashlib.sha256(trade_id.encode()).hexdigest()[:40]
        base = {
            "id": trade_id,
            "taker_order_id": "0x" + hashlib.sha256(f"t{trade_id}".encode()).hexdigest(),
            "market": fill.condition_id,
            "fee_rate_bps": "0",
            "status": "CONFIRMED",
            "match_time": str(fill.ts),
            "last_update": str(fill.ts + 5),
            "bucket_index": 0,
            "transaction_hash": fill.tx,
        }
        if fill.role == "taker":
            trades.append(
                {
                    **base,
                    "asset_id": fill.asset,
                    "side": fill.side,
                    "size": str(fill.size),
                    "price": str(fill.price),
                    "outcome": fill.outcome,
                    "owner": creds.api_key,
                    "maker_address": creds.funder,
                    "trader_side": "TAKER",
                    "maker_orders": [
                        {
                            "order_id": "0x" + hashlib.sha256(f"m{trade_id}".encode()).hexdigest(),
                            "owner": "other-key",
                            "maker_address": other,
                            "matched_amount": str(fill.size),
                            "price": str(fill.price),
                            "fee_rate_bps": "0",
                            "asset_id": fill.asset,
                            "outcome": fill.outcome,
                            "side": "SELL" if fill.side == "BUY" else "BUY",
                        }
                    ],
                }
            )
        else:
            taker_side = "SELL" if fill.side == "BUY" else "BUY"
            trades.append(
                {
                    **base,
                    "asset_id": fill.asset,
                    "side": taker_side,
                    "size": str(fill.size),
                    "price": str(fill.price),
                    "outcome": fill.outcome,
                    "owner": "other-key",
                    "maker_address": other,
                    "trader_side": "MAKER",
                    "maker_orders": [
                        {
                            "order_id": fill.order_id,
                            "owner": creds.api_key,
                            "maker_address": creds.funder,
                            "matched_amount": str(fill.size),
                            "price": str(fill.price),
                            "fee_rate_bps": "0",
                            "asset_id": fill.asset,
                            "outcome": fill.outcome,
                        }
                    ],
                }
            )
    return trades


class _Handler(BaseHTTPRequestHandler):
    server: EmulatorServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet: tests and demo read stats instead
        pass

    # --- plumbing ------------------------------------------------------------------------------
    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None, raw: bytes | None = None) -> None:
        payload = raw if raw is not None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(payload)

    def _error(self, status: int, message: str, headers: dict[str, str] | None = None, parameter: str | None = None) -> None:
        if urlsplit(self.path).path.startswith("/v2/"):  # v2's documented error body
            return self._send(status, data_v2.error_body(status, message, parameter), headers)
        self._send(status, {"error": message}, headers)

    def do_GET(self) -> None:  # noqa: N802 (http.server naming)
        parts = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        state = self.server.state
        path = parts.path
        if path.startswith("/__emulator/"):
            return self._control_get(path)
        if self.server.latency_s > 0:  # every API response, as a real host's round trip (threads overlap)
            time.sleep(self.server.latency_s)
        state.stats[path] += 1
        if query.get("user"):
            state.stats[f"{path}?user={query['user'].lower()}"] += 1
        wait = state.throttle(path)
        if wait is not None:
            state.stats["429"] += 1
            return self._error(429, "Too Many Requests", {"Retry-After": str(max(1, math.ceil(wait)))})
        fault = state.take_fault(path, query.get("user") or query.get("maker_address") or query.get("address"))
        if fault is not None:
            state.stats[f"fault:{fault.kind}"] += 1
            if fault.kind == "status":
                extra = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else None
                return self._error(fault.status, "injected fault", extra)
            if fault.kind == "malformed":
                return self._send(200, None, raw=b'[{"proxyWallet": "0x')
            if fault.kind == "error_body":
                return self._send(200, {"error": "injected: valid JSON, not the page shape"})
            time.sleep(fault.delay_s)
        routes = {
            "/trades": self._data_api_trades,
            "/v2/trades": self._data_api_v2_trades,
            "/data/trades": self._clob_trades,
            "/public-profile": self._public_profile,
            "/markets": lambda q: chain_routes.gamma_markets(self),  # Gamma token -> market (chain source)
            "/time": lambda q: self._send(200, int(time.time())),
        }
        handler = routes.get(path)
        if handler is None:
            return self._error(404, f"no route {path}")
        handler(query)

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
        except ValueError:
            return self._error(400, "body must be JSON")
        state = self.server.state
        path = urlsplit(self.path).path
        if path == chain_routes.RPC_PATH:  # Polygon JSON-RPC (emulator/polymarket_emulator/chain.py)
            return chain_routes.handle_rpc(self, body)
        if path == "/__emulator/chain":
            return chain_routes.handle_control(self, body)
        if path == "/__emulator/faults":
            faults = body if isinstance(body, list) else [body]
            with state.lock:
                state.faults.extend(Fault(**f) for f in faults)
            return self._send(200, {"faults": len(state.faults)})
        if path == "/__emulator/reset":
            with state.lock:
                state.faults.clear()
                state.stats.clear()
                state._hits.clear()
            state.set_paging(Paging())
            return self._send(200, {"ok": True})
        if path == "/__emulator/paging":
            try:
                paging = Paging(**body)
            except (TypeError, ValueError) as err:
                return self._error(400, f"bad paging settings: {err}")
            state.set_paging(paging)
            return self._send(200, asdict(paging))
        if path == "/__emulator/burst":
            try:
                wallet = body.get("wallet", state.clob.funder)
                wallet = state.dataset.wallets[wallet] if isinstance(wallet, int) else wallet.lower()
                ts, fills, distinct = (
                    int(body.get(k, d)) for k, d in (("ts", state.dataset.anchor_s - 3600), ("fills", 1500), ("distinct", 3))
                )
            except (AttributeError, IndexError, TypeError, ValueError) as err:
                return self._error(400, f"bad burst: {err}")
            added = state.dataset.add_burst(wallet, fills, ts, distinct)
            return self._send(200, {"added": len(added), "wallet": wallet, "ts": ts})
        if path == "/__emulator/settle":  # the unhashed CLOB trades get their hash
            with state.lock:
                state.unhashed = frozenset()
            return self._send(200, {"ok": True})
        if path == "/__emulator/release-late":
            return self._send(200, {"released": state.dataset.release_late()})
        if path == "/__emulator/new-fills":
            added = state.dataset.add_new_fills(
                int(body.get("per_wallet", 1)), body.get("ts"), body.get("wallets"), bool(body.get("hidden", False))
            )
            return self._send(200, {"added": added})
        return self._error(404, f"no route {path}")

    def _control_get(self, path: str) -> None:
        state = self.server.state
        if path == "/__emulator/health":
            return self._send(200, {"ok": True})
        if path == "/__emulator/dataset":
            return self._send(200, {**state.dataset.summary(), "clob_funder": state.clob.funder})
        if path == "/__emulator/stats":
            return self._send(200, dict(state.stats))
        if path == "/__emulator/paging":
            return self._send(200, asdict(state.paging))
        if path == "/__emulator/chain":
            return chain_routes.describe(self)
        return self._error(404, f"no route {path}")

    # --- Data API ------------------------------------------------------------------------------
    def _int(self, query: dict[str, str], name: str, default: int) -> int | None:
        """The parameter, or None after answering 400 naming it."""
        try:
            return data_v2.query_int(query, name, default)
        except data_v2.V2Error as err:
            self._error(400, str(err))
            return None

    def _data_api_trades(self, query: dict[str, str]) -> None:
        user = query.get("user", "")
        if user and not ADDRESS_RE.match(user):
            return self._error(400, "user must match ^0x[a-fA-F0-9]{40}$")
        limit, offset = self._int(query, "limit", 100), self._int(query, "offset", 0)
        start, end = self._int(query, "start", 0), self._int(query, "end", 0)
        if None in (limit, offset, start, end):
            return None
        if offset < 0 or offset > DATA_API_OFFSET_CAP:
            return self._error(400, f"offset must be between 0 and {DATA_API_OFFSET_CAP}; page inside start/end windows")
        state, paging = self.server.state, self.server.state.paging
        if paging.offset_400_after is not None and offset > paging.offset_400_after:
            state.stats["paging:offset_400"] += 1
            return self._error(400, f"offset must be at most {paging.offset_400_after}")
        if paging.offset_ignored_after is not None and offset >= paging.offset_ignored_after:
            state.stats["paging:offset_ignored"] += 1
            offset = 0
        limit = max(0, min(limit, DATA_API_LIMIT_MAX))
        if paging.limit_max is not None and limit > paging.limit_max:
            state.stats["paging:limit_clamped"] += 1
            limit = paging.limit_max
        taker_only = query.get("takerOnly", "true").lower() != "false"
        now = int(time.time())
        lo = start + int(paging.start_exclusive) if start else now - 3 * 365 * 86_400
        hi = end - int(paging.end_exclusive) if end and not paging.ignore_end else 2**62
        scope = user
        if paging.drops_user_filter(user):
            state.stats["paging:user_filter_dropped"] += 1
            scope = ""
        rows = state.dataset.window(scope, lo, hi) if scope else state.dataset.market_window(lo, hi)
        if taker_only:
            rows = [f for f in rows if f.role == "taker"]
        if paging.shuffle_ties:
            rows = shuffle_ties(rows, offset, offset + limit, state.tie_rng(), lambda f: f.ts)
        page = [data_api_row(f) for f in rows[offset : offset + limit]]
        if paging.shift_rows:
            state.shift(user)  # before sending, so the client's next request surely sees the new fills
        self._send(200, page)

    def _data_api_v2_trades(self, query: dict[str, str]) -> None:
        try:
            body = data_v2.serve(self.server.state, query)
        except data_v2.V2Error as err:
            return self._send(err.status, data_v2.error_body(err.status, str(err), err.parameter, err.code))
        self._send(200, body)

    # --- CLOB ----------------------------------------------------------------------------------
    def _clob_trades(self, query: dict[str, str]) -> None:
        creds = self.server.state.clob
        headers = {
            name: self.headers.get(name)
            for name in ("POLY_ADDRESS", "POLY_SIGNATURE", "POLY_TIMESTAMP", "POLY_API_KEY", "POLY_PASSPHRASE")
        }
        if self.headers.get("Authorization") or not all(headers.values()):
            return self._error(401, "Unauthorized/Invalid api key")
        expected = hmac_signature(creds.secret, headers["POLY_TIMESTAMP"], "GET", urlsplit(self.path).path)
        try:
            skew = abs(int(headers["POLY_TIMESTAMP"]) - time.time())
        except ValueError:
            skew = math.inf
        if (
            headers["POLY_API_KEY"] != creds.api_key
            or headers["POLY_PASSPHRASE"] != creds.passphrase
            or headers["POLY_ADDRESS"].lower() != creds.address.lower()
            or skew > 300
            or not hmac.compare_digest(headers["POLY_SIGNATURE"], expected)
        ):
            return self._error(401, "Unauthorized/Invalid api key")
        cursor = query.get("next_cursor") or "MA=="
        if cursor == "LTE=":
            return self._send(200, {"limit": CLOB_PAGE, "count": 0, "next_cursor": "LTE=", "data": []})
        try:
            offset = int(base64.b64decode(cursor).decode())
        except ValueError:
            return self._error(400, "invalid next_cursor")
        maker = query.get("maker_address", "").lower()
        paging = self.server.state.paging if self.server.state.paging.apply_to_clob else Paging()
        if maker and maker != creds.funder and not self.server.state.paging.clob_ignore_maker:
            trades: list[dict[str, Any]] = []
        else:
            after, before = self._int(query, "after", 0), self._int(query, "before", 2**62)
            if after is None or before is None:
                return None
            fills = self.server.state.dataset.window(creds.funder, after, before)
            if paging.shuffle_ties:
                fills = shuffle_ties(fills, 0, len(fills), self.server.state.tie_rng(), lambda f: f.ts)
            trades = clob_trades(fills, creds)
            for trade in trades if paging.clob_match_early_s else ():
                trade["match_time"] = str(int(trade["match_time"]) - paging.clob_match_early_s)
            if maker and maker != creds.funder:
                self.server.state.stats["paging:clob_maker_ignored"] += 1
            if paging.clob_unhashed:
                unhashed = self.server.state.unhashed_trades()
                for trade in trades:
                    if trade["id"].rsplit("-", 1)[0] in unhashed:
                        trade.update(unsettled(trade, paging.clob_unhashed_as))
                        self.server.state.stats["clob:unhashed_served"] += 1
            for name in ("id", "market", "asset_id"):
                if query.get(name):
                    trades = [t for t in trades if t[name] == query[name]]
        page = trades[offset : offset + CLOB_PAGE]
        next_offset = offset + CLOB_PAGE
        next_cursor = base64.b64encode(str(next_offset).encode()).decode() if next_offset < len(trades) else "LTE="
        if paging.shift_rows:
            self.server.state.shift(creds.funder)
        self._send(200, {"limit": CLOB_PAGE, "count": len(page), "next_cursor": next_cursor, "data": page})

    # --- Gamma ---------------------------------------------------------------------------------
    def _public_profile(self, query: dict[str, str]) -> None:
        address = query.get("address", "").lower()
        if not ADDRESS_RE.match(address):
            return self._error(400, "address must match ^0x[a-fA-F0-9]{40}$")
        for user in self.server.state.dataset.users:
            if address in (user.user_eoa, user.proxy_wallet) and user.wallet_type != "direct" and user.in_gamma:
                return self._send(
                    200,
                    {
                        "proxyWallet": user.proxy_wallet,
                        "name": user.name,
                        "pseudonym": user.name,
                        "createdAt": "2025-01-01T00:00:00Z",
                        "users": [{"id": user.name}],
                    },
                )
        self._error(404, "profile not found")


class EmulatorServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # many concurrent clients connect at once (the default backlog is 5)

    def __init__(self, state: EmulatorState, port: int = 0, latency_s: float = 0.0) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.state = state
        self.latency_s = latency_s  # added to every API response (not the control endpoints)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def start_in_thread(self) -> threading.Thread:
        thread = threading.Thread(target=self.serve_forever, name="polymarket-emulator", daemon=True)
        thread.start()
        return thread
