"""The verdict of one reconciliation run (pure): one headline first, then a line per wallet that is
off, then per-day numbers.

A wallet is *off* by the number of fills that do not reconcile: chain fills the API never served
(API-only groups count their rows), API rows the chain does not have, and groups present on both
sides with other amounts (an API row that merges several on-chain fills of one order is matched on
its summed size and collateral, so it is not off). Chain fills below the Data API v2 minimum size in
a wallet loaded from v2 are "not served by v2" and never count as off. A wallet blocks a promotion
when it is off by more than the tolerance (default 0).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

MAX_TX_LISTED = 5
# WalletVerdict counter -> the clob_reconciliation column summed into it
_COUNTS = {
    "api_rows": "api_rows", "chain_fills": "chain_fills", "matched": "matched", "mismatched": "mismatched",
    "api_only": "api_only_rows", "chain_only": "chain_only_fills", "not_served": "not_served_by_v2",
}  # fmt: skip


@dataclass
class WalletVerdict:
    wallet: str
    days: int = 0
    api_rows: int = 0
    chain_fills: int = 0
    matched: int = 0
    mismatched: int = 0
    api_only: int = 0
    chain_only: int = 0
    not_served: int = 0
    size_delta: Decimal = Decimal(0)
    usdc_delta: Decimal = Decimal(0)
    chain_only_tx: list[str] = field(default_factory=list)
    api_only_tx: list[str] = field(default_factory=list)
    mismatched_tx: list[str] = field(default_factory=list)
    not_served_tx: list[str] = field(default_factory=list)

    @property
    def off(self) -> int:
        return self.chain_only + self.api_only + self.mismatched

    def describe(self) -> str:
        def txs(items: list[str]) -> str:
            shown = ", ".join(items[:MAX_TX_LISTED])
            return f" (tx {shown}{', …' if len(items) > MAX_TX_LISTED else ''})" if items else ""

        parts = []
        if self.chain_only:
            parts.append(f"API is missing {self.chain_only} fill{'s' * (self.chain_only != 1)}{txs(self.chain_only_tx)}")
        if self.mismatched:
            parts.append(
                f"API serves {self.mismatched} trade{'s' * (self.mismatched != 1)} with other amounts than the chain "
                f"(API minus chain over the window: size {self.size_delta:+f}, USDC {self.usdc_delta:+f})"
                f"{txs(self.mismatched_tx)}"
            )
        if self.api_only:
            parts.append(f"API has {self.api_only} row{'s' * (self.api_only != 1)} the chain does not{txs(self.api_only_tx)}")
        if self.not_served:
            parts.append(f"{self.not_served} fill{'s' * (self.not_served != 1)} below 0.01 shares not served by v2 (not a loss)")
        if not parts:
            return f"{self.wallet}: complete ({self.matched} trades matched over {self.days} day(s))"
        return f"{self.wallet}: " + "; ".join(parts)


@dataclass
class Verdict:
    wallets: list[WalletVerdict]
    tolerance: int

    @property
    def blocking(self) -> list[WalletVerdict]:
        return [w for w in self.wallets if w.off > self.tolerance]

    @property
    def complete(self) -> list[WalletVerdict]:
        return [w for w in self.wallets if w.off == 0]

    def headline(self) -> str:
        off = [w for w in self.wallets if w.off]
        head = f"{len(self.wallets)} wallets: {len(self.complete)} complete"
        if not off:
            return head
        return head + "; " + "; ".join(w.describe() for w in off[:MAX_TX_LISTED]) + (" …" if len(off) > MAX_TX_LISTED else "")


def summarize(rows: Iterable[Mapping[str, Any]], wallets: Iterable[str], tolerance: int) -> Verdict:
    """Per-wallet totals from a run's (wallet, day) rows; wallets with no rows are complete (nothing on either side)."""
    by_wallet = {w: WalletVerdict(w) for w in wallets}
    for row in rows:
        v = by_wallet.setdefault(row["wallet"], WalletVerdict(row["wallet"]))
        v.days += 1
        for attr, column in _COUNTS.items():
            setattr(v, attr, getattr(v, attr) + int(row[column]))
        v.size_delta += Decimal(row["size_delta"])
        v.usdc_delta += Decimal(row["usdc_delta"])
        for kind in ("chain_only_tx", "api_only_tx", "mismatched_tx", "not_served_tx"):
            getattr(v, kind).extend(row[kind])
    return Verdict(sorted(by_wallet.values(), key=lambda w: (-w.off, w.wallet)), tolerance)


def day_line(row: Mapping[str, Any]) -> str:
    """One (wallet, day) row for the log."""
    return (
        f"{row['wallet']} {row['day']}: api_rows={row['api_rows']} chain_fills={row['chain_fills']} matched={row['matched']} "
        f"mismatched={row['mismatched']} api_only={row['api_only_rows']} chain_only={row['chain_only_fills']} "
        f"not_served_by_v2={row['not_served_by_v2']} size_delta={row['size_delta']} usdc_delta={row['usdc_delta']}"
    )
