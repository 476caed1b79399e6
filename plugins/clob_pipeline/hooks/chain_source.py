"""The chain source's I/O: Polygon JSON-RPC into the witness table, Gamma for token -> market, and
witness pages for ``source=chain`` (``SOURCES["chain"]`` in ``operators/fills_transfer.py``).

The fills operator drives every source through one interface: a pager asks for requests, the hook
answers them (``get_json(endpoint, params)``), a normaliser turns rows into fills. For the chain a
wallet's pager asks two things (``fills/chain_pager.py``):

- ``chain/scan``: read the wallet's unscanned finalized blocks from the window's first block into
  ``clob_chain_fills`` (``chain/scan.py``; many wallets' scans run at once on the fetch driver's
  threads, every RPC call through the connection's shared budget);
- ``chain/fills``: a page of the wallet's witness rows in the window with their markets (tokens
  Gamma has not mapped yet are asked first, once each, and cached in ``clob_chain_tokens``).

So the chain is read once into the witness, reconciliation reads the same rows, and a fills table
gets exactly what the witness holds. ``scan_wallets`` is the same scan for the reconcile DAG and the
promotion check. ClickHouse access from the scan threads goes through one client and a lock (the
loader's own client writes the fills table on its thread).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from clob_pipeline.chain.blocks import BlockClock
from clob_pipeline.chain.decode import ChainFill
from clob_pipeline.chain.scan import ScanResult, scan_wallet
from clob_pipeline.config import CLICKHOUSE_CONN_ID, GAMMA_CONN_ID
from clob_pipeline.errors import NotRetryableError
from clob_pipeline.hooks.clickhouse import ClickHouseHook
from clob_pipeline.hooks.polygon_rpc import PolygonRpcHook
from clob_pipeline.hooks.polymarket import PolymarketApiError, PolymarketGammaHook

WITNESS_TABLE = "clob_chain_fills"
TOKENS_PER_REQUEST = 20
WITNESS_PAGE_ROWS = 10_000


class UnknownTokenError(NotRetryableError, RuntimeError):
    """Gamma knows no market for a token the wallet traded: its fills cannot be stored without one."""


class GammaMarketsHook(PolymarketGammaHook):
    """Gamma ``/markets`` (its own budget: 300 requests per 10 s, the published ``/markets`` limit)."""

    default_rate_limit = (300, 10.0)

    def markets_for_tokens(self, tokens: list[str]) -> dict[str, tuple[str, str, int]]:
        """token -> (condition id, outcome, outcome index) for the tokens Gamma knows (open or closed markets).

        Tokens go 20 to a request (``clob_token_ids`` repeated); a token not found that way is asked
        alone, because that Gamma honours a repeated ``clob_token_ids`` is UNCONFIRMED."""
        found: dict[str, tuple[str, str, int]] = {}
        passes = [({}, TOKENS_PER_REQUEST), ({"closed": "true"}, TOKENS_PER_REQUEST), ({}, 1), ({"closed": "true"}, 1)]
        for extra, per_request in passes:  # Gamma's default listing may leave closed markets out (UNCONFIRMED)
            missing = [t for t in tokens if t not in found]
            for i in range(0, len(missing), per_request):
                batch = missing[i : i + per_request]
                body = self.get_json("/markets", {"clob_token_ids": batch, **extra})
                if not isinstance(body, list):
                    raise PolymarketApiError(f"GET /markets: expected a JSON array, got {str(body)[:200]}")
                for market in body:
                    found.update({t: m for t, m in _market_tokens(market).items() if t in batch})
        return found


def _json_list(value: Any) -> list[Any]:
    """Gamma sends ``clobTokenIds``/``outcomes`` as JSON text inside the JSON; accept lists too."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return []
    return value if isinstance(value, list) else []


def _market_tokens(market: Any) -> dict[str, tuple[str, str, int]]:
    if not isinstance(market, dict) or not market.get("conditionId"):
        return {}
    tokens = _json_list(market.get("clobTokenIds")) or _json_list(market.get("positionIds"))  # Protocol V2 markets
    outcomes = _json_list(market.get("outcomes"))
    return {
        str(token): (str(market["conditionId"]).lower(), str(outcomes[i]) if i < len(outcomes) else "", i)
        for i, token in enumerate(tokens)
    }


class ClickHouseWitness:
    """The witness tables through one ClickHouse client shared by the scan threads; ``lock`` is that
    client's, held around every call on it (the source hook's page reads take it too)."""

    def __init__(self, ch: ClickHouseHook, config_key: str, run_id: str, lock: threading.RLock) -> None:
        self.ch, self.config_key, self.run_id, self.lock = ch, config_key, run_id, lock

    def scanned_ranges(self, wallet: str) -> list[tuple[int, int, int, int]]:
        with self.lock:
            rows = self.ch.query_file("chain/scanned_ranges.sql", {"wallet": wallet, "config_key": self.config_key})
        return [tuple(int(v) for v in row) for row in rows]  # type: ignore[misc]

    def save(self, wallet: str, fills: list[ChainFill], lo: int, hi: int, lo_ts: int, hi_ts: int) -> int:
        """Insert the fills the witness lacks, then record ``lo..hi`` as scanned; returns rows inserted."""
        with self.lock:
            new = fills
            if fills:
                blocks = [f.block_number for f in fills]
                stored = {
                    (tx, int(index))
                    for tx, index in self.ch.query_file(
                        "chain/existing_logs.sql", {"wallet": wallet, "lo_block": min(blocks), "hi_block": max(blocks)}
                    )
                }
                new = [f for f in fills if (f.tx_hash, f.log_index) not in stored]
            if new:
                now_ms = int(time.time() * 1000)
                self.ch.insert_values(WITNESS_TABLE, [_witness_row(f, now_ms) for f in new], _WITNESS_COLUMNS)
            self.ch.run_sql_file(
                "chain/write_scanned_range.sql",
                {"wallet": wallet, "config_key": self.config_key, "lo_block": lo, "hi_block": hi, "lo_ts": lo_ts,
                 "hi_ts": hi_ts, "run_id": self.run_id},
            )  # fmt: skip
        return len(new)

    def block_points(self) -> list[tuple[int, int]]:
        with self.lock:
            return [(int(b), int(t)) for b, t in self.ch.query_file("chain/block_times.sql")]

    def save_block_points(self, points: dict[int, int]) -> None:
        if points:
            with self.lock:
                self.ch.insert_values("chain_block_times", sorted(points.items()), ["block", "ts"])


_WITNESS_COLUMNS = [
    "wallet", "tx_hash", "log_index", "block_number", "timestamp", "exchange", "era", "order_hash", "taker", "role",
    "side", "token_id", "size", "usdc", "price", "fee", "scanned_at",
]  # fmt: skip


def _witness_row(f: ChainFill, now_ms: int) -> list[Any]:
    """One witness row; amounts are integers of 6 decimals on the chain, exact decimals in the table."""

    def d(micro: int) -> Decimal:
        return Decimal(micro).scaleb(-6)

    return [
        f.wallet, f.tx_hash, f.log_index, f.block_number, datetime.fromtimestamp(f.block_ts or 0, UTC), f.exchange, f.era,
        f.order_hash, f.taker, f.role, f.side, f.token_id, d(f.size), d(f.usdc), d(f.price), d(f.fee),
        datetime.fromtimestamp(now_ms / 1000, UTC),
    ]  # fmt: skip


def _rpc_attribute(name: str) -> property:
    """A read-only property that answers with ``self.rpc.<name>``."""
    return property(lambda self: getattr(self.rpc, name), doc=f"The RPC hook's ``{name}``.")


class ChainSourceHook:
    """``polygon_rpc`` scans into the witness and witness pages out of it (see the module docstring)."""

    def __init__(
        self,
        polygon_rpc_conn_id: str | None = None,
        clickhouse_conn_id: str = CLICKHOUSE_CONN_ID,
        gamma_conn_id: str = GAMMA_CONN_ID,
        run_id: str = "",
    ) -> None:
        self.rpc = PolygonRpcHook(polygon_rpc_conn_id)
        self.clickhouse_conn_id, self.gamma_conn_id, self.run_id = clickhouse_conn_id, gamma_conn_id, run_id
        self._ch: ClickHouseHook | None = None
        self._gamma: GammaMarketsHook | None = None
        self._witness: ClickHouseWitness | None = None
        self._clock: BlockClock | None = None
        self._finalized: tuple[int, int, str] | None = None
        self._lock = threading.Lock()  # one preparation, one token lookup at a time
        self._ch_lock = threading.RLock()  # every call on the one ClickHouse client; taken last, never held across I/O elsewhere
        self._search_lock = threading.Lock()
        self._windows: dict[int, tuple[int, int, list[tuple[int, int, list[str]]]] | None] = {}
        self.scans: dict[str, ScanResult] = {}
        self.log = self.rpc.log

    # --- what the fills operator and the fetch driver read from an API hook ----------------------
    page_size = WITNESS_PAGE_ROWS
    default_rate_limit = PolygonRpcHook.default_rate_limit  # the RPC budget bounds the task's time

    def served_page_size(self) -> int:
        return 0  # witness pages are whole seconds; a short page is the end

    # The request numbers are the RPC hook's: the task summary and the limiter speak of JSON-RPC calls.
    max_in_flight = _rpc_attribute("max_in_flight")
    stats = _rpc_attribute("stats")
    thread_stats = _rpc_attribute("thread_stats")
    budget_per_s = _rpc_attribute("budget_per_s")

    def get_json(self, endpoint: str, params: dict[str, Any]) -> Any:
        if endpoint == "chain/scan":
            result = self.scan(params["wallet"], int(params["start_s"]))
            return {"finalized_s": self.finalized_point()[1], "fills": result.fills, "stored": result.stored}
        if endpoint == "chain/fills":
            return self.fills_page(params["wallet"], int(params["start_s"]), int(params["upper_s"]), int(params["limit"]))
        raise ValueError(f"the chain source has no endpoint {endpoint!r}")

    # --- scanning ------------------------------------------------------------------------------
    @property
    def ch(self) -> ClickHouseHook:
        if self._ch is None:
            self._ch = ClickHouseHook(self.clickhouse_conn_id)
        return self._ch

    def _prepared(self) -> tuple[tuple[int, int, str], BlockClock, ClickHouseWitness]:
        """Chain id checked, the finalized block fixed for this hook's life, block cache loaded."""
        with self._lock:
            if self._witness is None:
                self.rpc.check_chain()
                witness = ClickHouseWitness(self.ch, self.rpc.chain_config.key, self.run_id, self._ch_lock)
                clock = BlockClock(self.rpc.block_timestamp, witness.block_points())
                finalized = self.rpc.finalized()
                clock.add(finalized[0], finalized[1])
                self.log.info(
                    "chain: %s, finalized block %d at %s (%s)",
                    self.rpc.safe_url, finalized[0], time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(finalized[1])), finalized[2],
                )  # fmt: skip
                self._finalized, self._clock, self._witness = finalized, clock, witness
        assert self._finalized is not None and self._clock is not None
        return self._finalized, self._clock, self._witness

    def finalized_point(self) -> tuple[int, int]:
        """(block, timestamp) this hook reads up to: fixed when it first touches the chain."""
        finalized = self._prepared()[0]
        return finalized[0], finalized[1]

    def _window(self, start_s: int) -> tuple[int, int, list[tuple[int, int, list[str]]]] | None:
        """(first block, finalized block, eras as (first block, last block, exchanges)) of a scan from
        ``start_s``; None when nothing from there is final. Only era bounds inside the window are searched
        (a 90-day window after the V1 era needs none), and wallets with one window share its searches."""
        with self._search_lock:
            if start_s in self._windows:
                return self._windows[start_s]
            (final_block, final_ts, _), clock, _ = self._prepared()
            eras = self.rpc.chain_config.eras
            lo_s = max(start_s, min(era.first_s for era in eras))
            window: tuple[int, int, list[tuple[int, int, list[str]]]] | None = None
            if lo_s <= final_ts:
                lo_block = clock.first_at_or_after(lo_s, 0, final_block)
                bounds = []
                for era in eras:
                    if (era.last_s is not None and era.last_s < lo_s) or era.first_s > final_ts:
                        continue  # no block of this window is of that era
                    e_lo = lo_block if era.first_s <= lo_s else clock.first_at_or_after(era.first_s, lo_block, final_block)
                    ends_later = era.last_s is None or era.last_s >= final_ts
                    e_hi = final_block if ends_later else clock.last_at_or_before(era.last_s, lo_block, final_block)  # type: ignore[arg-type]
                    bounds.append((e_lo, e_hi, list(era.exchanges)))
                window = (lo_block, final_block, bounds)
                self.log.info(
                    "chain window from %s: blocks %d..%d; eras %s", time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(lo_s)),
                    lo_block, final_block, ", ".join(f"{lo}..{hi} {len(a)} exchanges" for lo, hi, a in bounds),
                )  # fmt: skip
            self._windows[start_s] = window
            return window

    def scan(self, wallet: str, start_s: int) -> ScanResult:
        """Scan the wallet's unscanned finalized blocks from the first at or after ``start_s``."""
        _, clock, witness = self._prepared()
        window = self._window(start_s)
        settings = self.rpc.chain_settings
        if window is None:
            result = ScanResult(wallet, [], 0, 0, 0, 0, 0.0)
        else:
            lo, hi, eras = window

            def addresses_for(a: int, b: int) -> list[str]:  # the exchanges of every era overlapping a..b
                return sorted({x for e_lo, e_hi, xs in eras if e_lo <= b and e_hi >= a for x in xs})

            result = scan_wallet(
                self.rpc, witness, clock, settings["config"], addresses_for, wallet, (lo, hi),
                settings["initial_span"], settings["max_span"], self.log,
            )  # fmt: skip
        self.log.info("chain scan %s", result.describe())
        self.scans[wallet] = result
        return result

    def scan_wallets(self, wallets: Iterable[str], start_s: int) -> tuple[dict[str, ScanResult], dict[str, BaseException]]:
        """Scan several wallets at once (``max_in_flight`` threads); failures are returned, not raised."""
        wallets = list(wallets)
        self._prepared()
        results: dict[str, ScanResult] = {}
        failures: dict[str, BaseException] = {}
        with ThreadPoolExecutor(max(1, min(self.max_in_flight, len(wallets))), thread_name_prefix="chain-scan") as pool:
            futures = {wallet: pool.submit(self.scan, wallet, start_s) for wallet in wallets}
            for wallet, future in futures.items():
                try:
                    results[wallet] = future.result()
                except Exception as exc:  # reported per wallet by the caller
                    failures[wallet] = exc
        return results, failures

    # --- pages for source=chain ------------------------------------------------------------------
    def ensure_tokens(self, wallet: str, start_ms: int, end_ms: int) -> int:
        """Ask Gamma for the markets of the wallet's window tokens not cached yet; returns how many were asked."""
        with self._lock:
            window = {"wallet": wallet, "start_ms": start_ms, "end_ms": end_ms}
            with self._ch_lock:
                missing = [t for (t,) in self.ch.query_file("chain/missing_tokens.sql", window)]
            if not missing:
                return 0
            if self._gamma is None:
                self._gamma = GammaMarketsHook(self.gamma_conn_id)
            markets = self._gamma.markets_for_tokens(missing)
            if markets:
                now = time.time()
                rows = [[t, c, o, i, datetime.fromtimestamp(now, UTC)] for t, (c, o, i) in markets.items()]
                columns = ["token_id", "condition_id", "outcome", "outcome_index", "resolved_at"]
                with self._ch_lock:
                    self.ch.insert_values("clob_chain_tokens", rows, columns)
            unknown = [t for t in missing if t not in markets]
        if unknown:
            raise UnknownTokenError(
                f"wallet {wallet}: Gamma knows no market for token(s) {', '.join(unknown[:5])}"
                f"{' ...' if len(unknown) > 5 else ''}; their fills cannot be stored without a condition id. The witness "
                "keeps them (reconciliation does not need markets). Check the token on Gamma, then clear the task."
            )
        return len(missing)

    def fills_page(self, wallet: str, start_s: int, upper_s: int, limit: int) -> dict[str, Any]:
        """Whole seconds of the wallet's witness rows in ``start_s..upper_s``, newest first, with markets."""
        start_ms, end_ms = start_s * 1000, upper_s * 1000 + 999
        self.ensure_tokens(wallet, start_ms, end_ms)
        with self._ch_lock:
            rows = self.ch.query_file_dicts(
                "chain/fills_page.sql", {"wallet": wallet, "start_ms": start_ms, "end_ms": end_ms, "limit": limit}
            )
        return {"rows": rows}

    def close(self) -> None:
        try:
            if self._clock is not None and self._witness is not None:
                self._witness.save_block_points(self._clock.new_points)
        finally:
            self.rpc.close()
            if self._gamma is not None:
                self._gamma.close()
            if self._ch is not None:
                self._ch.close()
