"""Param checks and the retry-delay policy (pure logic); the limiter: test_slot_limiter.py."""

from __future__ import annotations

import pytest

from clob_pipeline.fills.params import ParamError, lookback_start_s, normalize_wallets, validate_source
from clob_pipeline.hooks.throttle import parse_retry_after

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


def test_retry_after():
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:05 GMT", now=1445412480.0) == 5.0
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None
