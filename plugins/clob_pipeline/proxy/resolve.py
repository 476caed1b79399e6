"""Decide which wallets an address trades from, given a profile lookup and a has-trades probe.

An EOA can trade from several wallets (an older proxy or Safe user who later got a deposit wallet
for API trading, or who also signs orders with the EOA itself), and Gamma names only one. So every
wallet with evidence is returned, each with its own type and ``resolved_by``:

1. Gamma ``/public-profile``: ``proxyWallet``, typed by the CREATE2 cross-check against every
   derived kind: ``proxy``, ``safe`` or ``deposit`` (either deposit-wallet form), ``resolved_by``
   ``gamma+create2``; the address itself is ``direct`` (``gamma``); a wallet none of them matches is
   kept as ``proxy``, ``resolved_by`` ``gamma`` (unverified).
2. Every other candidate is asked whether it has Data API trades: the CREATE2 wallets (proxy, Safe,
   deposit UUPS, deposit beacon; ``create2+data_api``), then the address itself (``direct``,
   ``data_api``). The wallet Gamma named is not asked again (its evidence is Gamma's), so an address
   costs 4 probes with a profile that names a derived wallet or the address, 5 otherwise.
3. Nothing anywhere -> no wallet (not a trader; nothing is written). If Gamma failed *and* no
   candidate has trades, the lookup counts as failed (it may be a proxy user we could not see).
   If Gamma failed and a probe found a wallet, the address resolves to the probed wallets only; the
   result carries Gamma's error (``gamma_error``) so the caller says so: the wallet Gamma would name
   may be one no probe finds (e.g. a wallet that is not a CREATE2 candidate).

The functions take callables so they are unit-tested without HTTP.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

from clob_pipeline.fills.normalize import ADDRESS_RE
from clob_pipeline.proxy.derive import derived_type, derived_wallets


class ResolutionError(RuntimeError):
    """The address could not be resolved (Gamma failed and the fallback found nothing)."""


@dataclass(frozen=True)
class Resolution:
    user_eoa: str
    proxy_wallet: str
    wallet_type: str  # proxy | safe | deposit | direct
    resolved_by: str  # gamma | gamma+create2 | create2+data_api | data_api

    @property
    def proxy_separated(self) -> bool:
        return self.proxy_wallet != self.user_eoa


class AddressResolution(NamedTuple):
    """Every wallet of one address with evidence, and why Gamma could not be asked (empty: it answered)."""

    wallets: list[Resolution]
    gamma_error: str = ""


def resolve_address(
    address: str,
    lookup_profile: Callable[[str], dict[str, Any] | None],
    has_trades: Callable[[str], bool],
) -> AddressResolution:
    """Every wallet of one lower-case address with evidence, Gamma's first, then the probed
    candidates in the order above, with Gamma's error if its lookup failed; see the module docstring."""
    gamma_error: Exception | None = None
    try:
        profile = lookup_profile(address)
    except Exception as err:  # the hook already retried; the probes still answer
        profile, gamma_error = None, err
    found: list[Resolution] = []
    named = str((profile or {}).get("proxyWallet") or "").lower()
    if named and ADDRESS_RE.match(named):
        kind = derived_type(address, named)
        if kind is None:
            found.append(Resolution(address, named, "proxy", "gamma"))
        else:
            found.append(Resolution(address, named, kind, "gamma" if kind == "direct" else "gamma+create2"))
    probed = [(kind, wallet, "create2+data_api") for kind, wallet in derived_wallets(address)] + [("direct", address, "data_api")]
    for kind, wallet, by in probed:
        if wallet != named and has_trades(wallet):
            found.append(Resolution(address, wallet, kind, by))
    if not found and gamma_error is not None:
        raise ResolutionError(f"Gamma lookup failed ({gamma_error}) and no candidate wallet has trades") from gamma_error
    return AddressResolution(found, f"{type(gamma_error).__name__}: {gamma_error}" if gamma_error else "")
