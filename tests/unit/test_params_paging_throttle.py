"""Param checks, paging plans and the retry-delay policy (pure logic); the limiter: test_slot_limiter.py."""

from __future__ import annotations

import pytest

from clob_pipeline.fills.paging import ClobCursorPager, DataApiWindowPager, PagingError
from clob_pipeline.fills.params import ParamError, lookback_start_s, normalize_wallets, validate_source
from clob_pipeline.hooks.throttle import backoff_delay, parse_retry_after

A = "0x" + "Ab" * 20


def test_wallets_are_lower_cased_and_deduplicated():
    assert normalize_wallets([A, A.lower(), " " + A]) == [A.lower()]


@pytest.mark.parametrize("bad", ["0x123", "ab" * 20, 42, "0x" + "g" * 40])
def test_bad_wallet_names_index_value_and_rule(bad):
    with pytest.raises(ParamError) as err:
        normalize_wallets([A, bad])
    assert "wallets[1]" in str(err.value) and repr(bad) in str(err.value) and "40 hex" in str(err.value)


def test_wallets_must_be_a_list():
    with pytest.raises(ParamError, match="list of addresses"):
        normalize_wallets(A)


def test_lookback_windows():
    now = 1_800_000_000
    assert lookback_start_s("30d", now) == now - 30 * 86400
    assert lookback_start_s("90d", now) == now - 90 * 86400
    assert lookback_start_s("all", now) == 1
    with pytest.raises(ParamError, match="'lookback'.*'7d'"):
        lookback_start_s("7d", now)


def test_source_check():
    assert validate_source("clob") == "clob"
    with pytest.raises(ParamError, match="'source'"):
        validate_source("goldsky")


def test_data_api_pager_narrows_the_window_at_the_offset_cap():
    pager = DataApiWindowPager(start_s=1, end_s=1000, page_size=400, offset_cap=1000)
    assert pager.params() == {"start": 1, "end": 1000, "limit": 400, "offset": 0}
    assert pager.feed(400, oldest_ts_s=900) is False and pager.offset == 400
    assert pager.feed(400, oldest_ts_s=800) is True  # offset 800 + 400 would pass the cap
    assert pager.params() == {"start": 1, "end": 801, "limit": 400, "offset": 0}
    assert pager.feed(10, oldest_ts_s=700) is False and pager.done


def test_data_api_pager_refuses_to_loop_when_one_second_exceeds_the_cap():
    pager = DataApiWindowPager(start_s=1, end_s=1000, page_size=500, offset_cap=1000)
    pager.feed(500, 999)
    with pytest.raises(PagingError, match="more than 1000 fills"):
        pager.feed(500, 999)


def test_clob_pager_follows_cursors_until_the_end_sentinel():
    pager = ClobCursorPager(after_s=1, before_s=2)
    assert pager.params("0xw")["next_cursor"] == "MA=="
    pager.feed("MTAw")
    assert pager.params("0xw")["next_cursor"] == "MTAw"
    with pytest.raises(PagingError):
        pager.feed("MTAw")
    pager.feed("LTE=")
    assert pager.done


def test_retry_after_and_backoff():
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:05 GMT", now=1445412480.0) == 5.0
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None
    assert [backoff_delay(a, 1.0, 5.0) for a in (1, 2, 3, 4)] == [1.0, 2.0, 4.0, 5.0]
