"""Decide which wallet an address trades from, given a profile lookup and a has-trades probe.

Order of evidence (first that answers wins):

1. Gamma ``/public-profile``: ``proxyWallet`` different from the address -> proxy-separated. Its
   type comes from the CREATE2 cross-check against every derived kind: ``proxy``, ``safe`` or
   ``deposit`` (either deposit-wallet form), ``resolved_by`` ``gamma+create2``; a wallet none of
   them matches is kept as ``proxy``, ``resolved_by`` ``gamma`` (unverified).
2. No profile (404), or Gamma failing: the CREATE2 candidates (proxy, Safe, deposit UUPS, deposit
   beacon), then the address itself, each asked whether it has Data API trades. The first derived
   wallet with trades -> proxy-separated (``create2+data_api``); the address itself with trades ->
   ``direct`` (``data_api``).
3. Nothing anywhere -> ``None`` (not a trader; nothing is written). If Gamma failed *and* the
   fallback found nothing, the lookup counts as failed (it may be a proxy user we could not see).

The functions take callables so they are unit-tested without HTTP.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

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


def resolve_address(
    address: str,
    lookup_profile: Callable[[str], dict[str, Any] | None],
    has_trades: Callable[[str], bool],
) -> Resolution | None:
    """Resolve one lower-case address; see the module docstring for the order of evidence."""
    gamma_error: Exception | None = None
    try:
        profile = lookup_profile(address)
    except Exception as err:  # the hook already retried; fall back to derivation
        profile, gamma_error = None, err
    proxy = str((profile or {}).get("proxyWallet") or "").lower()
    if proxy and ADDRESS_RE.match(proxy):
        kind = derived_type(address, proxy)
        if kind is None:
            return Resolution(address, proxy, "proxy", "gamma")
        return Resolution(address, proxy, kind, "gamma" if kind == "direct" else "gamma+create2")
    for wallet_type, candidate in derived_wallets(address):
        if has_trades(candidate):
            return Resolution(address, candidate, wallet_type, "create2+data_api")
    if has_trades(address):
        return Resolution(address, address, "direct", "data_api")
    if gamma_error is not None:
        raise ResolutionError(f"Gamma lookup failed ({gamma_error}) and no derived wallet has trades") from gamma_error
    return None
