"""The block ranges one wallet's ``eth_getLogs`` reads, split and grown from the provider's answers (pure).

Why adaptive: providers cap a request by block range (10 blocks on a free tier, 10,000 on a paid
one) or by result count, and say so only in their error answers (``provider_errors.py``). The
planner starts at ``initial_span`` blocks, doubles after each answer with logs (up to ``max_span``
and any cap a provider named), and on a limit answer asks the same first block again with a
smaller span: the suggested one, the named cap, or half.

What it guarantees:

- **no block range is skipped**: ranges are consumed strictly in order from the first pending
  block, and a range counts as read only when :meth:`done` says its logs were stored;
- **no block range is read twice**: after :meth:`done` the range is gone from the plan;
- **every answer proves progress**: an answer with logs consumes at least one block, a limit
  answer must shrink the span (a suggestion as large as the refused range counts as "halve"); a
  provider that refuses one block, or answers anything else ``max_unknown`` times in a row, stops
  the wallet with :class:`ProviderLimitError`, which names the range and what the provider said.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

from clob_pipeline.chain.decode import wallet_topic
from clob_pipeline.chain.provider_errors import classify_logs_error, error_text


class ProviderLimitError(RuntimeError):
    """The provider cannot serve a block range of this wallet; nothing of that range is stored.

    ``retryable`` (``clob_pipeline.errors.is_retryable``): False when the provider refuses even one
    block (it will again); True when its answers named no limit (an outage, an internal error, a
    timeout): the task's retries with backoff resume after the stored ranges."""

    def __init__(self, message: str, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


class LogsRequest(NamedTuple):
    from_block: int
    to_block: int
    params: list[Any]  # the eth_getLogs params: [filter]


def merge_intervals(intervals: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted, non-overlapping, non-adjacent inclusive block intervals."""
    merged: list[list[int]] = []
    for lo, hi in sorted((int(a), int(b)) for a, b in intervals if a <= b):
        if merged and lo <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], hi)
        else:
            merged.append([lo, hi])
    return [(lo, hi) for lo, hi in merged]


def gaps(want: tuple[int, int], covered: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """The parts of ``want`` (inclusive blocks) that no ``covered`` interval holds."""
    lo, hi = want
    out = []
    for c_lo, c_hi in merge_intervals(covered):
        if c_hi < lo or c_lo > hi:
            continue
        if c_lo > lo:
            out.append((lo, c_lo - 1))
        lo = max(lo, c_hi + 1)
        if lo > hi:
            break
    if lo <= hi:
        out.append((lo, hi))
    return out


class LogRangePlanner:
    """``eth_getLogs`` requests for one wallet over ``intervals`` (inclusive blocks), oldest first."""

    def __init__(
        self,
        wallet: str,
        intervals: Iterable[tuple[int, int]],
        addresses_for: Callable[[int, int], list[str]],
        topics0: list[str],
        initial_span: int = 2_000,
        max_span: int = 100_000,
        max_unknown: int = 3,
    ) -> None:
        if initial_span < 1 or max_span < 1:
            raise ValueError(f"spans must be >= 1; got initial {initial_span}, max {max_span}")
        self.wallet, self.addresses_for, self.topics0 = wallet, addresses_for, topics0
        self.pending: deque[tuple[int, int]] = deque(merge_intervals(intervals))
        self.ceiling = max_span
        self.span = min(initial_span, max_span)
        self.max_unknown = max_unknown
        self.unknown_in_a_row = 0
        self.answers = self.limits = 0
        self.blocks_total = sum(hi - lo + 1 for lo, hi in self.pending)

    @property
    def blocks_left(self) -> int:
        return sum(hi - lo + 1 for lo, hi in self.pending)

    def next_request(self) -> LogsRequest | None:
        if not self.pending:
            return None
        lo, hi = self.pending[0]
        to = min(hi, lo + self.span - 1)
        filter_ = {
            "fromBlock": hex(lo),
            "toBlock": hex(to),
            "address": self.addresses_for(lo, to),
            "topics": [self.topics0, None, wallet_topic(self.wallet)],
        }
        return LogsRequest(lo, to, [filter_])

    def done(self, request: LogsRequest) -> None:
        """The logs of ``request``'s range are stored: drop the range, grow the span."""
        lo, hi = self.pending[0]
        if request.from_block != lo or request.to_block > hi:
            raise ValueError(f"done({request.from_block}..{request.to_block}) is not the next range {lo}..{hi}")
        self.answers += 1
        self.unknown_in_a_row = 0
        if request.to_block >= hi:
            self.pending.popleft()
        else:
            self.pending[0] = (request.to_block + 1, hi)
        self.span = min(self.ceiling, self.span * 2)

    def failed(self, request: LogsRequest, error: Any) -> None:
        """The provider refused ``request`` with ``error`` (the JSON-RPC error object): shrink, or stop."""
        self.answers += 1
        chunk = request.to_block - request.from_block + 1
        limit = classify_logs_error(error)
        where = f"eth_getLogs {request.from_block}..{request.to_block} ({chunk} blocks) for wallet {self.wallet}"
        if limit is None:
            self.unknown_in_a_row += 1
            if self.unknown_in_a_row >= self.max_unknown:
                raise ProviderLimitError(
                    f"{where}: the provider answered {error_text(error)!r} {self.unknown_in_a_row} times in a row, which "
                    "names no limit this pipeline knows. Nothing of this range is stored; the blocks before it are. "
                    "Retried by Airflow; if it persists, check the provider's status and plan, or teach "
                    "chain/provider_errors.py its wording.",
                    retryable=True,
                )
            return  # ask the same range again
        self.limits += 1
        self.unknown_in_a_row = 0
        if limit.kind == "cap":
            self.ceiling = min(self.ceiling, limit.span or chunk)
        new_span = limit.span if limit.span is not None and limit.span < chunk else chunk // 2
        if new_span < 1:
            raise ProviderLimitError(
                f"{where}: the provider refuses even one block ({error_text(error)!r}). Nothing of block "
                f"{request.from_block} is stored; the blocks before it are. Use a provider (or plan) that serves "
                "this block, then clear the task: it resumes here.",
                retryable=False,
            )
        self.span = new_span
