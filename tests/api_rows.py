"""A well-formed Data API ``/trades`` row for unit tests, with any field overridden or removed."""

from __future__ import annotations

from typing import Any

WALLET = "0x" + "ab" * 20
EOA = "0x" + "cd" * 20


def data_api_row(**overrides: Any) -> dict[str, Any]:
    base = {
        "proxyWallet": WALLET,
        "side": "BUY",
        "asset": "123456789",
        "conditionId": "0x" + "11" * 32,
        "size": 12.5,
        "price": 0.57,
        "timestamp": 1_700_000_000,
        "outcome": "Yes",
        "outcomeIndex": 0,
        "transactionHash": "0x" + "EE" * 32,
        "title": "ignored by the normaliser",
    }
    base.update(overrides)
    return base
