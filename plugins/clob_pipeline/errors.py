"""Errors that retrying the task cannot fix, and how to tell them from transient ones.

Airflow retries every failed task up to ``retries`` times with backoff. For a wrong secret (HTTP
401), a bad request (400), a bad Param, a missing table or a paging plan that would fail the same
way again, each retry only adds minutes before on-call learns what to fix. The bundle's
``retry_policy`` (``retry_policy.py``, set for every task in ``dag_defaults.py``) asks
:func:`is_retryable` and fails such a task at once; everything else keeps its backoff.

Mark an error as not retryable in one of two ways:

- subclass :class:`NotRetryableError` (alongside the usual base: ``class PagingError(NotRetryableError, RuntimeError)``);
- or give the exception a ``retryable`` attribute that is ``False`` for this instance
  (``PolymarketApiError`` derives it from its HTTP status).

Pure Python, no Airflow import: hooks and pure modules can import it at no cost.
"""

from __future__ import annotations

import re

# ClickHouse errors that name something missing or malformed in the SQL: the same query fails again.
_CLICKHOUSE_PERMANENT = re.compile(r"\b(UNKNOWN_TABLE|UNKNOWN_DATABASE|UNKNOWN_IDENTIFIER|SYNTAX_ERROR)\b")


class NotRetryableError(Exception):
    """Marker base: retrying the task cannot fix this error; fix the cause, then trigger or clear again."""


def is_retryable(exc: BaseException) -> bool:
    """Whether a retry of the task could succeed. Looks through the exception's causes (``raise X
    from Y``), so wrapping a permanent error keeps it permanent."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, NotRetryableError) or getattr(current, "retryable", True) is False:
            return False
        if _is_clickhouse_error(current) and _CLICKHOUSE_PERMANENT.search(str(current)):
            return False
        current = current.__cause__ or current.__context__
    return True


def not_retryable_reason(exc: BaseException) -> str:
    """One line for the log: why the task fails without a retry."""
    return (
        f"{type(exc).__name__} cannot be fixed by retrying (a bad request, credentials, Param, missing table "
        "or a paging plan that would fail the same way): the task fails now, without Airflow retries. "
        "Its error above says what to fix; then clear the task or trigger again."
    )


def _is_clickhouse_error(exc: BaseException) -> bool:
    module = type(exc).__module__ or ""
    return module.startswith(("clickhouse_connect", "chdb"))
