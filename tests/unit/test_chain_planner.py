"""The log-range planner against simulated providers: every cap, no block skipped or read twice,
progress proven per answer; provider error texts; the block search."""

from __future__ import annotations

import random

import pytest

from clob_pipeline.chain.blocks import BlockClock, BlockOrderError
from clob_pipeline.chain.planner import LogRangePlanner, ProviderLimitError, gaps, merge_intervals
from clob_pipeline.chain.provider_errors import classify_logs_error, is_rate_limit

WALLET = "0x" + "ab" * 20
LOG_BLOCKS = sorted(random.Random(3).sample(range(1_000, 200_000), 3_000))  # blocks holding the wallet's logs


def provider(range_cap: int | None = None, result_cap: int | None = None, hint: bool = True, forever: bool = False):
    """A fake eth_getLogs: (from, to) -> ("ok", logs) or ("error", error object), like the emulator's caps."""

    def answer(lo: int, hi: int):
        if forever:
            return "error", {"code": -32005, "message": "query returned more than 10000 results"}
        if range_cap and hi - lo + 1 > range_cap:
            return "error", {"code": -32614, "message": f"eth_getLogs is limited to a {range_cap:,} range"}
        logs = [b for b in LOG_BLOCKS if lo <= b <= hi]
        if result_cap and len(logs) > result_cap:
            if not hint:
                return "error", {"code": -32005, "message": f"query returned more than {result_cap} results"}
            last_ok = logs[result_cap] - 1  # the widest prefix with at most result_cap logs
            return "error", {
                "code": -32005,
                "message": f"query returned more than {result_cap} results. "
                f"Try with this block range [{hex(lo)}, {hex(last_ok)}].",
            }
        return "ok", logs

    return answer


def drive(planner: LogRangePlanner, answer, max_answers: int = 100_000) -> tuple[list[tuple[int, int]], list[int]]:
    read, logs = [], []
    while (request := planner.next_request()) is not None:
        assert len(read) + planner.limits < max_answers, "the planner did not converge"
        kind, body = answer(request.from_block, request.to_block)
        if kind == "ok":
            read.append((request.from_block, request.to_block))
            logs.extend(body)
            planner.done(request)
        else:
            planner.failed(request, body)
    return read, logs


def new_planner(intervals=((1, 200_000),), initial=2_000, max_span=100_000) -> LogRangePlanner:
    return LogRangePlanner(WALLET, intervals, lambda lo, hi: ["0x" + "11" * 20], ["0xtopic"], initial, max_span)


@pytest.mark.parametrize(
    "answer",
    [
        provider(),
        provider(range_cap=10),
        provider(range_cap=3_000),
        provider(result_cap=50),
        provider(result_cap=50, hint=False),
        provider(range_cap=5_000, result_cap=20),
    ],
    ids=["no-cap", "range-10", "range-3000", "results-hint", "results-no-hint", "range-and-results"],
)
def test_every_block_is_read_once_in_order_under_each_cap(answer):
    planner = new_planner()
    read, logs = drive(planner, answer)
    assert read[0][0] == 1 and read[-1][1] == 200_000
    assert all(b[0] == a[1] + 1 for a, b in zip(read, read[1:]))  # contiguous: nothing skipped, nothing twice
    assert logs == LOG_BLOCKS


def test_a_named_cap_is_never_exceeded_again_and_the_span_grows_back_after_results_caps():
    planner = new_planner(initial=50_000)
    read, _ = drive(planner, provider(range_cap=3_000))
    assert max(hi - lo + 1 for lo, hi in read) <= 3_000
    assert planner.limits == 1  # learned once
    planner = new_planner(initial=10)
    read, _ = drive(planner, provider(result_cap=200))
    assert max(hi - lo + 1 for lo, hi in read) > 1_000  # grows while results stay under the cap


def test_a_suggestion_as_wide_as_the_refused_range_still_shrinks_it():
    planner = new_planner(initial=100)
    request = planner.next_request()
    planner.failed(request, {"code": -32005, "message": f"Try with this block range [{hex(1)}, {hex(500)}]"})
    assert planner.next_request().to_block - planner.next_request().from_block + 1 == 50


def test_a_provider_that_refuses_everything_ends_the_wallet_naming_the_block():
    planner = new_planner()
    with pytest.raises(ProviderLimitError, match=r"refuses even one block .*Nothing of block 1 is stored"):
        drive(planner, provider(forever=True))
    assert planner.answers <= 12  # 2000 -> 1 by halving, then stop: bounded


def test_unknown_errors_are_retried_a_bounded_number_of_times_then_named():
    planner = new_planner()
    with pytest.raises(ProviderLimitError, match="header not found.* 3 times in a row"):
        drive(planner, lambda lo, hi: ("error", {"code": -32000, "message": "header not found"}))


def test_intervals_and_gaps():
    assert merge_intervals([(5, 9), (1, 3), (4, 4), (20, 30), (25, 26)]) == [(1, 9), (20, 30)]
    assert gaps((1, 100), [(10, 20), (30, 40)]) == [(1, 9), (21, 29), (41, 100)]
    assert gaps((1, 100), [(1, 100)]) == []
    assert gaps((50, 60), [(1, 55)]) == [(56, 60)]
    planner = new_planner(intervals=[(1, 10), (20, 30)], initial=100)
    read, _ = drive(planner, provider())
    assert read == [(1, 10), (20, 30)]


@pytest.mark.parametrize(
    ("message", "kind", "span"),
    [
        ("query returned more than 10000 results. Try with this block range [0x1A4, 0x1F3].", "suggested", 80),
        ("Log response size exceeded. ... this block range should work: [0x10, 0x19]", "suggested", 10),
        ("eth_getLogs is limited to a 10,000 range", "cap", 10_000),
        ("exceed maximum block range: 50000", "cap", 50_000),
        ("Maximum allowed number of requested blocks is 1000", "cap", 1_000),
        ("You can make eth_getLogs requests with up to a 2K block range", "cap", 2_000),
        ("query returned more than 10000 results", "halve", None),
        ("query exceeds max results 20000, retry with the range 1-2", "halve", None),
        ("block range too large", "halve", None),
    ],
)
def test_provider_limit_texts(message, kind, span):
    assert classify_logs_error({"code": -32005, "message": message}) == (kind, span)
    assert not is_rate_limit({"code": -32005, "message": message})


def test_rate_limit_texts_are_not_limits():
    for error in (
        {"code": 429, "message": "Too Many Requests"},
        {"code": -32005, "message": "project ID request rate exceeded"},
        {"code": -32007, "message": "100/second request limit reached - reduce calls per second"},
    ):
        assert is_rate_limit(error) and classify_logs_error(error) is None
    assert not is_rate_limit({"code": -32000, "message": "header not found"})


def synthetic_chain(n: int = 5_000_000, seed: int = 1) -> tuple[dict[int, int], list[int]]:
    """Lazily computed timestamps ~2 s apart with jitter (strictly increasing)."""
    rng = random.Random(seed)
    jumps = {k: rng.choice((1, 2, 2, 2, 3)) for k in range(0, n, 50_000)}
    calls: list[int] = []

    def ts(block: int) -> int:
        calls.append(block)
        base = 1_600_000_000 + 2 * block
        return base + sum(j for k, j in jumps.items() if k <= block)

    return ts, calls  # type: ignore[return-value]


def test_the_block_search_finds_the_first_block_at_a_time_with_few_lookups_and_reuses_them():
    ts, calls = synthetic_chain()
    clock = BlockClock(ts)
    for target in (1_600_000_000, 1_603_000_001, 1_607_654_321, 1_609_999_999):
        calls.clear()
        found = clock.first_at_or_after(target, 0, 4_999_999)
        assert ts(found) >= target and (found == 0 or ts(found - 1) < target)
        assert len(calls) - 2 <= 25  # a binary search, not a scan (two calls are the check above)
    first = clock.first_at_or_after(1_607_654_321, 0, 4_999_999)
    calls.clear()
    assert clock.first_at_or_after(1_607_654_321, 0, 4_999_999) == first
    assert calls == []  # every point it needs is cached
    assert clock.first_at_or_after(2_000_000_000, 0, 4_999_999) == 5_000_000  # after the last block
    assert clock.last_at_or_before(1_599_999_999, 0, 4_999_999) == -1


def test_timestamps_that_go_backwards_are_named():
    clock = BlockClock(lambda b: 1_000 - b, known=[(0, 500)])  # a provider whose timestamps fall with the number
    with pytest.raises(BlockOrderError, match=r"block 50 at 950, out of order .*\(100, 900\)"):
        clock.first_at_or_after(600, 0, 100)


def test_unknown_errors_leave_the_wallet_to_an_airflow_retry_a_refused_block_does_not():
    """An answer naming no limit ("header not found", "internal error", a timeout) says nothing about the
    range: after the planner's immediate retries the task's own retries with backoff resume from the stored
    ranges. A provider that refuses one block will refuse it again: that fails at once."""
    from clob_pipeline.errors import is_retryable

    with pytest.raises(ProviderLimitError) as unknown:
        drive(new_planner(), lambda lo, hi: ("error", {"code": -32603, "message": "internal error"}))
    assert is_retryable(unknown.value)
    with pytest.raises(ProviderLimitError) as refused:
        drive(new_planner(), provider(forever=True))
    assert not is_retryable(refused.value)
