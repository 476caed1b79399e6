"""The bundle's Airflow ``retry_policy``: no retry for errors a retry cannot fix (``errors.py``).

Set for every task through ``DEFAULT_ARGS`` (``dag_defaults.py``). It runs in the task's worker
process with the real exception; a transient error falls through to the task's retries and
exponential backoff.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import RetryDecision, RetryPolicy

from clob_pipeline.errors import is_retryable, not_retryable_reason


class FailFastRetryPolicy(RetryPolicy):
    """Fail at once when :func:`clob_pipeline.errors.is_retryable` says no; otherwise the default."""

    def evaluate(self, exception: BaseException, try_number: int, max_tries: int, context: Any = None) -> RetryDecision:
        if is_retryable(exception):
            return RetryDecision.default()
        return RetryDecision.fail(reason=not_retryable_reason(exception))

    def serialize(self) -> dict[str, Any]:
        return {"__type": "FailFastRetryPolicy"}

    @classmethod
    def deserialize(cls, data: dict[str, Any]) -> FailFastRetryPolicy:
        return cls()
