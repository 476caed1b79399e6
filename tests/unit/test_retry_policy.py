"""Which errors the bundle's retry policy fails at once, and which keep Airflow's retries."""

from __future__ import annotations

import pytest
from airflow.sdk.definitions.retry_policy import RetryAction

from clob_pipeline.errors import NotRetryableError, is_retryable
from clob_pipeline.fills.normalize import MalformedFillError
from clob_pipeline.fills.params import ParamError
from clob_pipeline.hooks.polymarket import PolymarketApiError
from clob_pipeline.retry_policy import FailFastRetryPolicy


@pytest.mark.parametrize("status", [400, 401, 403, 404])
def test_a_client_error_status_is_not_retryable(status):
    assert not is_retryable(PolymarketApiError("GET /data/trades: HTTP", status))


@pytest.mark.parametrize("status", [None, 429, 500, 503])
def test_throttling_server_and_network_errors_are_retryable(status):
    assert is_retryable(PolymarketApiError("GET /trades failed 5 times", status))


def test_marked_errors_and_their_wrappers_are_not_retryable():
    assert not is_retryable(ParamError("Param 'wallets[0]' must be an address"))
    assert not is_retryable(MalformedFillError("price", "must be in (0, 1]", 7))
    try:
        try:
            raise PolymarketApiError("HTTP 401", 401)
        except PolymarketApiError as inner:
            raise RuntimeError("wallet 0xabc failed") from inner
    except RuntimeError as wrapped:
        assert not is_retryable(wrapped)
    assert is_retryable(RuntimeError("connection reset")) and is_retryable(TimeoutError())


def test_the_policy_fails_permanent_errors_and_defers_the_rest():
    policy = FailFastRetryPolicy()
    fail = policy.evaluate(PolymarketApiError("HTTP 401", 401), try_number=1, max_tries=3)
    assert fail.action == RetryAction.FAIL and "without Airflow retries" in fail.reason
    assert policy.evaluate(NotRetryableError("paging would repeat"), 1, 3).action == RetryAction.FAIL
    assert policy.evaluate(PolymarketApiError("HTTP 503", 503), 1, 3).action == RetryAction.DEFAULT
