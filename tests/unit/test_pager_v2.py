"""The Data API v2 pager against an in-memory /v2/trades that misbehaves (pure logic, no HTTP).

Each test drives the pager to its end as the fetch loop does and compares what it handed over with
the truth: exactly the window's fills, whole seconds only, each once; or a PagingError with only real
fills handed over, after a bounded number of requests.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

import pytest
from v2_fake import FakeV2Api, walk

from clob_pipeline.errors import is_retryable
from clob_pipeline.fills.pagers import MAX_STALLS, DataApiV2Pager, ForeignRowsError, PagingError, UnexpectedResponseError

W = "0x" + "ab" * 20
OTHER = "0x" + "cd" * 20


def fill(ts: int, n: int = 0, tx: str = "0xt") -> dict[str, Any]:
    row = {"timestamp": ts, "transaction_hash": tx, "token_id": "1", "side": "BUY", "size": 1.0 + n, "price": 0.5}
    return {"proxy_wallet": W, **row}


def history(seconds: int = 60, per_second: int = 7, first: int = 1000) -> list[dict[str, Any]]:
    """Several fills in every second, some identical, so every page boundary cuts a second."""
    return [fill(first + s, n % 3) for s in range(seconds) for n in range(per_second)]


def key(row: dict[str, Any]) -> tuple:
    return tuple(sorted(row.items()))


def counted(batches: list[list[dict[str, Any]]]) -> Counter:
    return Counter(key(r) for batch in batches for r in batch)


def truth(rows: list[dict[str, Any]], lo: int = 0, hi: int = 10**12) -> Counter:
    return Counter(key(r) for r in rows if lo <= r["timestamp"] <= hi)


def whole_seconds(batches: list[list[dict[str, Any]]], rows: list[dict[str, Any]]) -> bool:
    """Every second handed over came in one batch, with all its rows."""
    for batch in batches:
        for second in {r["timestamp"] for r in batch}:
            if Counter(key(r) for r in batch if r["timestamp"] == second) != truth(rows, second, second):
                return False
    return True


def pager(upper: int = 2000, start: int = 1, page: int = 20) -> DataApiV2Pager:
    return DataApiV2Pager(W, start_s=start, upper_s=upper, page_size=page)


def test_the_walk_hands_over_exactly_the_window_in_whole_seconds():
    rows = history()
    api = FakeV2Api(rows)
    batches = walk(pager(upper=1049, start=1010), api)
    assert counted(batches) == truth(rows, 1010, 1049) and whole_seconds(batches, rows)
    assert api.requests == math.ceil(sum(truth(rows, 1009, 1050).values()) / 20)  # one per page, no extra


def test_requests_carry_the_documented_parameters():
    p = DataApiV2Pager(W, start_s=1, upper_s=2000, page_size=5000)
    first = p.next_request()
    assert first.endpoint == "/v2/trades"
    assert first.params == {"user": W, "taker_only": "false", "start": 1, "end": 2001, "limit": 1000}  # all history: start=1
    p.feed({"data": [fill(1500), fill(1499)], "pagination": {"next_cursor": "c1", "has_more": True}})
    assert p.next_request().params == {**first.params, "cursor": "c1"}  # the same filters on every page


@pytest.mark.parametrize("empty", [1, MAX_STALLS])
def test_empty_pages_with_has_more_are_not_the_end(empty):
    rows = history()
    api = FakeV2Api(rows, empty_pages=empty)
    assert counted(walk(pager(), api)) == truth(rows)


def test_empty_pages_that_never_end_fail_after_a_bounded_number_of_requests():
    api = FakeV2Api(history(), empty_pages=10**6)
    with pytest.raises(PagingError, match="did not move the walk forward"):
        walk(pager(), api, max_requests=MAX_STALLS + 3)


@pytest.mark.parametrize(("at", "times"), [(3, 1), (1, 4), (2, None)], ids=["once", "four-in-a-row", "every-cursor"])
def test_a_rejected_cursor_resumes_from_the_last_whole_second(at, times):
    rows = history()
    api = FakeV2Api(rows, reject_cursor_at=at, reject_times=times)
    p = pager()
    batches = walk(p, api, max_requests=200)
    assert counted(batches) == truth(rows) and whole_seconds(batches, rows)  # no gap, no phantom
    assert p.restarts == {"cursor rejected": api.rejected}  # counted for the wallet's closing line


@pytest.mark.parametrize("nonce", [False, True], ids=["same-cursor", "fresh-cursor"])
def test_an_ignored_cursor_on_many_seconds_is_read_exactly_through_windows(nonce):
    rows = history(seconds=300, per_second=3)
    api = FakeV2Api(rows, ignore_cursor=True, nonce=nonce)
    batches = walk(pager(), api, max_requests=3 * len(rows) // 20)  # bounded: about one request per page
    assert counted(batches) == truth(rows) and whole_seconds(batches, rows)


def test_an_ignored_cursor_inside_a_second_larger_than_a_page_fails_loudly():
    rows = history(seconds=5) + [fill(1500, n % 2) for n in range(50)]
    api = FakeV2Api(rows, ignore_cursor=True)
    p = pager()
    handed: list = []
    with pytest.raises(PagingError, match="more fills than one /v2/trades page"):
        while (request := p.next_request()) is not None:
            assert api.requests < 100
            handed.append(p.feed(api.get(request.params)).rows)
    assert not counted(handed) - truth(rows)  # only real fills, each at most once


def test_rows_arriving_during_the_walk_are_never_taken_twice_and_the_next_walk_gets_the_rest():
    rows = history()
    api = FakeV2Api(rows, arrive=True, arrive_times=4)
    first = counted(walk(pager(upper=1059), api))
    final = Counter(key(r) for r in api.truth() if r["timestamp"] <= 1059)
    assert not first - final  # nothing handed over twice, nothing that is not a fill
    assert truth(rows) <= first  # every fill there at the start
    assert any(r["timestamp"] < 1059 for r in api.truth()[len(rows):] if key(r) in first)  # older arrivals came
    second = counted(walk(pager(upper=1059), FakeV2Api(api.truth())))
    assert second == final  # a later walk reads the rest; identity is content + rank, so nothing doubles


def test_a_row_of_another_wallet_fails_the_walk_and_is_never_handed_over():
    rows = history()
    api = FakeV2Api(rows, other=OTHER, foreign_from=2)
    p = pager()
    handed: list = []
    with pytest.raises(ForeignRowsError, match=f"{OTHER} x") as err:
        while (request := p.next_request()) is not None:
            handed.append(p.feed(api.get(request.params)).rows)
    assert not is_retryable(err.value) and handed and not counted(handed) - truth(rows)


def test_an_oldest_first_walk_is_followed_too():
    rows = history()
    api = FakeV2Api(rows, oldest_first=True)
    p = pager()
    batches = walk(p, api)
    assert counted(batches) == truth(rows) and whole_seconds(batches, rows)


def test_rows_outside_the_requested_window_fail_loudly():
    rows = history()
    api = FakeV2Api(rows, ignore_end=True)
    with pytest.raises(PagingError, match="outside the requested"):
        walk(pager(upper=1030), api)


def test_has_more_without_a_cursor_is_not_the_end():
    rows = history()
    api = FakeV2Api(rows, no_cursor_at=3)
    assert counted(walk(pager(), api)) == truth(rows)


def test_the_resume_point_only_moves_past_handed_over_seconds():
    rows = history(seconds=30)
    p, api = pager(), FakeV2Api(rows)
    handed: list[int] = []
    while (request := p.next_request()) is not None:
        fed = p.feed(api.get(request.params))
        handed += [r["timestamp"] for r in fed.rows]
        assert all(ts > fed.resume for ts in handed)
        resumed = counted(walk(pager(upper=fed.resume), FakeV2Api(rows)))  # a retry from the checkpoint
        assert resumed == truth(rows, 1, fed.resume)


def test_a_body_that_is_not_the_envelope_is_retried_and_stores_nothing():
    with pytest.raises(UnexpectedResponseError, match="nothing from it is stored") as err:
        pager().feed([fill(1000)])
    assert is_retryable(err.value)


@pytest.mark.parametrize("rows", [history(), [fill(1500, n % 3) for n in range(15)]], ids=["many-seconds", "one-second"])
def test_an_empty_string_cursor_on_the_last_page_ends_the_walk(rows):
    """``has_more`` false with ``next_cursor`` "" (not null): the end, not a cursor to send (sent, it is no cursor
    at all: the walk's first page again, which looped for ever or failed the wallet)."""
    api = FakeV2Api(rows, end_cursor="")
    batches = walk(pager(), api, max_requests=100)
    assert counted(batches) == truth(rows) and whole_seconds(batches, rows)
    assert api.requests == math.ceil(len(rows) / 20)


def test_an_ignored_cursor_answered_with_fresh_cursors_inside_one_second_ends_loudly():
    """The case the docstring could not see: the newest second holds more fills than a page, the cursor is
    ignored and every answer carries a fresh cursor, so the same page reads as that second's continuation.
    No second of one wallet holds that many fills (one Polygon block holds far fewer): the walk fails after a
    bounded number of requests instead of buffering the same rows until the task's timeout."""
    rows = [fill(1500, n % 2) for n in range(50)] + history(seconds=5)
    api = FakeV2Api(rows, ignore_cursor=True, nonce=True)
    p = DataApiV2Pager(W, start_s=1, upper_s=2000, page_size=20, max_second_fills=200)
    handed: list = []
    with pytest.raises(PagingError, match="more than 200 fills in one second"):
        while (request := p.next_request()) is not None:
            assert api.requests < 50, "the walk does not end"
            handed.append(p.feed(api.get(request.params)).rows)
    assert not counted(handed) - truth(rows)  # only real fills, each at most once


def sparse_history(seconds: int = 60, per_second: int = 7, first: int = 1000) -> list[dict[str, Any]]:
    """Like :func:`history`, on every other second: a second read alone shares its page with no neighbour."""
    return [fill(first + 2 * s, n % 3) for s in range(seconds) for n in range(per_second)]


def test_an_inclusive_cursor_anchor_stores_no_phantom_at_any_page_boundary():
    """The cursor's page starts with its anchor again (the previous page's last row): without a re-read of
    that second each page boundary adds a phantom fill (22 in these 420)."""
    rows = history()
    api = FakeV2Api(rows, inclusive_anchor=True)
    p = pager()
    batches = walk(p, api)
    assert counted(batches) == truth(rows) and whole_seconds(batches, rows)
    assert p.restarts == {"page boundary repeated": 22} and api.cursor_requests == 22  # each boundary read again once


@pytest.mark.parametrize("oldest_first", [False, True], ids=["newest-first", "oldest-first"])
@pytest.mark.parametrize("inclusive", [False, True], ids=["exclusive-anchor", "inclusive-anchor"])
def test_identical_fills_straddling_a_page_boundary_are_all_kept(inclusive, oldest_first):
    """Ten identical fills of one second across a page boundary (a bot's burst) are real: the re-read of their
    second keeps all of them, with or without an inclusive anchor, and costs one request per such boundary."""
    second = 1082 if oldest_first else 1080  # its burst covers row 140 (newest first) or 300 (oldest first)
    rows = sparse_history() + [fill(second, 9, tx="0xburst")] * 10
    api = FakeV2Api(rows, inclusive_anchor=inclusive, oldest_first=oldest_first)
    p = pager()
    batches = walk(p, api)
    assert counted(batches) == truth(rows) and whole_seconds(batches, rows)
    if not inclusive:  # only the burst's boundary repeats: one re-read, one request more than the pages
        assert p.restarts == {"page boundary repeated": 1}
        assert api.requests == math.ceil(len(rows) / 20) + 1


def test_a_rejected_cursor_while_a_second_is_read_again_resumes_exactly():
    rows = history()
    api = FakeV2Api(rows, inclusive_anchor=True, reject_cursor_at=4, reject_times=3)
    p = pager()
    batches = walk(p, api, max_requests=300)
    assert counted(batches) == truth(rows) and whole_seconds(batches, rows)
    assert p.restarts["cursor rejected"] == 3


@pytest.mark.parametrize("inclusive", [False, True], ids=["exclusive-anchor", "inclusive-anchor"])
def test_a_second_larger_than_a_page_whose_boundary_repeats_again_fails_loudly_with_whole_seconds_only(inclusive):
    """30 identical fills in one second, pages of 20: read alone, its boundary repeats again, so how many
    fills it holds cannot be told (an inclusive anchor serves 20 + 1 + 9 rows, a real burst 20 + 10)."""
    rows = sparse_history(seconds=20) + [fill(1020, 9, tx="0xbig")] * 30
    api = FakeV2Api(rows, inclusive_anchor=inclusive)
    p = pager()
    handed: list = []
    with pytest.raises(PagingError, match=r"second 1970-01-01T00:17:00Z does not fit one /v2/trades page \(limit 20\)") as err:
        while (request := p.next_request()) is not None:
            assert api.requests < 50, "the walk does not end"
            handed.append(p.feed(api.get(request.params)).rows)
    assert W in str(err.value) and "reading the second alone served 20" in str(err.value)
    assert counted(handed) == truth(rows, 1021) and whole_seconds(handed, rows)  # every second above it, whole


@pytest.mark.parametrize("exclusive", [False, True], ids=["inclusive-bounds", "exclusive-bounds"])
@pytest.mark.parametrize("start", [1, 1010], ids=["all-history", "from-1010"])
@pytest.mark.parametrize("upper", [1039, 1035], ids=["from-the-newest", "below-the-newest"])
def test_windows_read_seconds_over_half_a_page_exactly_whatever_start_and_end_mean(exclusive, start, upper):
    """Cursors ignored, so every page is a new window one second wider than the resume point on both sides.
    With an inclusive ``end`` the second above (already handed over) comes back on top of the page, and with an
    inclusive ``start`` the second below comes after the window's last one: 12 of either beside 12 of the
    current second overflow a page of 20 although that second fits. Neither may fail the wallet. (From the
    newest second, the first walk's extra second is empty: ``end`` is learned by the windows themselves.)"""
    rows = history(seconds=40, per_second=12)
    api = FakeV2Api(rows, ignore_cursor=True, exclusive_bounds=exclusive)
    p = pager(upper=upper, start=start)
    batches = walk(p, api, max_requests=200)
    assert counted(batches) == truth(rows, start, upper) and whole_seconds(batches, rows)
    assert (p.end_extra, p.start_extra) == ((1, 1) if exclusive else (0, int(start == 1)))  # learned from the rows


def test_a_walk_ends_at_the_first_row_beyond_the_window():
    """A row older than the window's oldest second (newest first, an inclusive ``start``) shows the walk has
    served all of the window: the 50 fills of the second below are not paged through."""
    rows = history(seconds=20, first=1010) + [fill(1009, n % 3) for n in range(50)]
    api = FakeV2Api(rows)
    p = pager(start=1010)
    batches = walk(p, api)
    assert counted(batches) == truth(rows, 1010) and whole_seconds(batches, rows)
    assert api.requests == math.ceil((len(rows) - 50 + 1) / 20) and p.start_extra == 0


def test_a_second_read_alone_is_not_crowded_out_by_the_second_above_it():
    """An inclusive anchor makes every boundary repeat; reading a second alone asks ``end`` one second late,
    so with an inclusive ``end`` the 12 fills of the second above fill most of the page. That read is done
    again with the exact ``end`` instead of following its cursor (which would repeat again and fail)."""
    rows = history(seconds=40, per_second=12)
    api = FakeV2Api(rows, inclusive_anchor=True)
    p = pager()
    batches = walk(p, api, max_requests=300)
    assert counted(batches) == truth(rows) and whole_seconds(batches, rows)
