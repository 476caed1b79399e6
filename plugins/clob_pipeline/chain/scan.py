"""One wallet's scan: its unscanned finalized block ranges, ``eth_getLogs`` by the planner, decoded
fills stored in the witness with the range they cover (the I/O objects are injected).

Why the scanned ranges are stored with the fills: a range is recorded only after its fills are in
``clob_chain_fills``, in the same batch, so a later run (or a retry after a crash) reads only the
gaps: the next run starts where the last finalized one ended, and no range is read twice into the
witness (a crash between the insert and the record makes the retry read that batch again, and the
insert skips every (transaction hash, log index) already stored).

Every answer is checked against its request before anything from it is kept: each log must decode
as the wallet's fill (``decode.py``), lie in the asked block range and come from an asked address,
and no (transaction hash, log index) may appear twice. The first violation fails the wallet with
``ForeignLogError`` naming what the provider sent; the batch it belongs to is not stored.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, NamedTuple, Protocol

from clob_pipeline.chain.blocks import BlockClock
from clob_pipeline.chain.contracts import ChainConfig
from clob_pipeline.chain.decode import ChainFill, ForeignLogError, decode_log
from clob_pipeline.chain.planner import LogRangePlanner, LogsRequest, gaps
from clob_pipeline.fills.pagers import UnexpectedResponseError

FLUSH_FILLS = 5_000  # fills per witness insert
FLUSH_REQUESTS = 200  # answers between two records of progress, so a killed scan loses little


class Rpc(Protocol):
    def call_raw(self, method: str, params: list[Any]) -> dict[str, Any]: ...


class WitnessStore(Protocol):
    def scanned_ranges(self, wallet: str) -> list[tuple[int, int, int, int]]: ...

    def save(self, wallet: str, fills: list[ChainFill], lo: int, hi: int, lo_ts: int, hi_ts: int) -> int: ...


class ScanResult(NamedTuple):
    wallet: str
    scanned: list[tuple[int, int]]  # the gaps read this time (inclusive blocks)
    fills: int  # logs read
    stored: int  # rows the witness did not have
    requests: int
    limit_answers: int  # answers that named a provider limit
    seconds: float

    def describe(self) -> str:
        blocks = sum(hi - lo + 1 for lo, hi in self.scanned)
        where = ", ".join(f"{lo}..{hi}" for lo, hi in self.scanned[:3]) + (" ..." if len(self.scanned) > 3 else "")
        return (
            f"wallet {self.wallet}: scanned {blocks} blocks ({where or 'nothing new'}) in {self.requests} eth_getLogs "
            f"({self.limit_answers} limit answers), {self.fills} fills read, {self.stored} new in the witness, "
            f"{self.seconds:.1f}s"
        )


def _check_answer(request: LogsRequest, fills: list[ChainFill], wallet: str) -> None:
    asked = set(request.params[0]["address"])
    seen: set[tuple[str, int]] = set()
    for fill in fills:
        key = (fill.tx_hash, fill.log_index)
        if not request.from_block <= fill.block_number <= request.to_block:
            raise ForeignLogError(
                f"eth_getLogs {request.from_block}..{request.to_block} for wallet {wallet} answered log {key[0]}:{key[1]} "
                f"of block {fill.block_number}, outside the asked range; nothing from this answer is stored"
            )
        if fill.exchange not in asked:
            raise ForeignLogError(f"eth_getLogs for wallet {wallet} answered a log of {fill.exchange}, which was not asked for")
        if key in seen:
            raise ForeignLogError(f"eth_getLogs for wallet {wallet} answered log {key[0]}:{key[1]} twice in one answer")
        seen.add(key)


def scan_wallet(
    rpc: Rpc,
    store: WitnessStore,
    clock: BlockClock,
    config: ChainConfig,
    addresses_for: Callable[[int, int], list[str]],
    wallet: str,
    want: tuple[int, int],
    initial_span: int,
    max_span: int,
    log: Any = None,
) -> ScanResult:
    """Read the parts of ``want`` (inclusive blocks, at or below the finalized block) that the wallet's
    scanned ranges do not hold, storing fills and ranges batch by batch."""
    started = time.monotonic()
    covered = store.scanned_ranges(wallet)
    todo = gaps(want, [(lo, hi) for lo, hi, _, _ in covered])
    planner = LogRangePlanner(wallet, todo, addresses_for, sorted(config.layouts), initial_span, max_span)
    for lo, hi, lo_ts, hi_ts in covered:  # their timestamps are known: no lookup to record them again
        clock.add(lo, lo_ts)
        clock.add(hi, hi_ts)
    # a gap right after a stored range extends that range's record; any other gap starts its own
    record_lo = {lo: next((c_lo for c_lo, c_hi, _, _ in covered if c_hi + 1 == lo), lo) for lo, _ in todo}
    buffered: list[ChainFill] = []
    found = stored = since_flush = 0
    current: tuple[int, int] | None = None  # (record lo, last block read) of the range being read

    def flush() -> None:
        nonlocal buffered, stored, since_flush
        if current is None:
            return
        lo, hi = current
        stored += store.save(wallet, buffered, lo, hi, clock.timestamp(lo), clock.timestamp(hi))
        buffered, since_flush = [], 0

    while (request := planner.next_request()) is not None:
        if current is not None and request.from_block != current[1] + 1:
            flush()  # the next gap: record this range first
            current = None
        if not request.params[0]["address"]:  # no configured exchange existed in these blocks: nothing to ask
            planner.done(request)
            current = (current[0] if current is not None else record_lo[request.from_block], request.to_block)
            continue
        body = rpc.call_raw("eth_getLogs", request.params)
        error = body.get("error")
        if error is not None:
            planner.failed(request, error)
            if log is not None:
                log.info("wallet %s: %s; next span %d blocks", wallet, str(error)[:200], planner.span)
            continue
        result = body.get("result")
        if not isinstance(result, list):
            raise UnexpectedResponseError(f"eth_getLogs for wallet {wallet} answered result {str(result)[:200]!r}, not a list")
        fills = [decode_log(entry, config, wallet) for entry in result]
        _check_answer(request, fills, wallet)
        for i, fill in enumerate(fills):
            if fill.block_ts is None:
                fills[i] = fill._replace(block_ts=clock.timestamp(fill.block_number))
            else:
                clock.add(fill.block_number, fill.block_ts)  # a provider's timestamp must agree with the others
        planner.done(request)
        found += len(fills)
        buffered.extend(fills)
        since_flush += 1
        current = (current[0] if current is not None else record_lo[request.from_block], request.to_block)
        if len(buffered) >= FLUSH_FILLS or since_flush >= FLUSH_REQUESTS:
            flush()
    flush()
    return ScanResult(wallet, todo, found, stored, planner.answers, planner.limits, time.monotonic() - started)
