"""The load tasks' execution_timeout: a bound that grows with the work, within its floor and cap."""

from __future__ import annotations

import pytest

from clob_pipeline.fills.load_timeout import CAP_S, FLOOR_S, load_timeout


def test_the_bound_grows_with_wallets_window_and_a_smaller_budget():
    base = load_timeout(10, 30 * 86_400, 20.0)
    assert load_timeout(50, 30 * 86_400, 20.0) > base
    assert load_timeout(10, 90 * 86_400, 20.0) > base
    assert load_timeout(10, 30 * 86_400, 2.0) > base
    assert base.total_seconds() == FLOOR_S + 2 * 10 * (4 + 20 * 30) / 20.0


def test_the_bound_stays_within_its_floor_and_cap():
    assert FLOOR_S <= load_timeout(1, 3600, 20.0).total_seconds() < FLOOR_S + 5  # an incremental run of one wallet
    assert load_timeout(50, 60 * 365 * 86_400, 20.0).total_seconds() == CAP_S  # an all-history backfill


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match="requests_per_s > 0"):
        load_timeout(1, 3600, 0)
