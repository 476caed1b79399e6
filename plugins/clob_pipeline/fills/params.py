"""Validation of DAG Params, run before any task writes.

Airflow's Param JSON schema already rejects most bad input at trigger time; these functions give
the same rules a message that names the field, the rule and the offending value, and they also
guard runs whose conf bypassed the form (CLI, API, ``dags test -c``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from clob_pipeline.errors import NotRetryableError

WALLET_PATTERN = r"^0x[0-9a-fA-F]{40}$"
_WALLET_RE = re.compile(WALLET_PATTERN)
LOOKBACK_DAYS: dict[str, int | None] = {"30d": 30, "90d": 90, "all": None}
# Fill sources a load task can read (``operators/fill_sources.py`` says what each one is).
# ``data_api`` is the default Data API (today v2), kept so existing triggers and Params still validate.
DEFAULT_SOURCE = "data_api_v2"
SOURCE_ALIASES = {"data_api": DEFAULT_SOURCE}
SOURCES = ("data_api_v2", "data_api_v1", "clob", "chain", *SOURCE_ALIASES)
FULL_HISTORY_START_S = 1  # Data API: start=1 means the full history of a user


class ParamError(NotRetryableError, ValueError):
    """A Param broke a rule; raised before anything is written."""


def normalize_wallet(value: Any, field: str = "wallet") -> str:
    """Return the lower-cased address or raise a ParamError naming the field and value."""
    if not isinstance(value, str) or not _WALLET_RE.match(value.strip()):
        raise ParamError(
            f"Param {field!r} must be an address matching {WALLET_PATTERN} (0x + 40 hex digits); "
            f"got {value!r}. Fix the value and trigger again; nothing was written."
        )
    return value.strip().lower()


def normalize_wallets(values: Iterable[Any] | None, field: str = "wallets") -> list[str]:
    """Lower-case and de-duplicate (first occurrence wins); every entry must be an address."""
    if values is None:
        return []
    if isinstance(values, str) or not isinstance(values, Iterable):
        raise ParamError(f"Param {field!r} must be a list of addresses; got {values!r}.")
    wallets: dict[str, None] = {}
    for index, value in enumerate(values):
        wallets[normalize_wallet(value, f"{field}[{index}]")] = None
    return list(wallets)


def lookback_start_s(lookback: Any, now_s: int) -> int:
    """First second of history to load for a lookback of ``30d``, ``90d`` or ``all``."""
    if lookback not in LOOKBACK_DAYS:
        raise ParamError(f"Param 'lookback' must be one of {sorted(LOOKBACK_DAYS)}; got {lookback!r}.")
    days = LOOKBACK_DAYS[lookback]
    return FULL_HISTORY_START_S if days is None else now_s - days * 86_400


def validate_source(source: Any) -> str:
    """The source's name, an alias resolved (``data_api`` -> ``data_api_v2``)."""
    if source not in SOURCES:
        raise ParamError(f"Param 'source' must be one of {list(SOURCES)}; got {source!r}.")
    return SOURCE_ALIASES.get(source, source)
