"""Resolution order of evidence, with fake lookups (no HTTP)."""

from __future__ import annotations

import pytest

from clob_pipeline.proxy.derive import derive_proxy_wallet, derive_safe_wallet, derived_type
from clob_pipeline.proxy.resolve import ResolutionError, resolve_address

EOA = "0x0000000000000000000000000000000000000001"
PROXY, SAFE = derive_proxy_wallet(EOA), derive_safe_wallet(EOA)
# The deposit wallet of EOA in its UUPS and beacon forms (published vectors, polymarket-api.md §4.2)
DEPOSIT_UUPS = "0x57ffbc34de23124faeb8387fcd689d314e57accd"
DEPOSIT_BEACON = "0x94bf330955a0b957662feaf878de77bf25f76cd9"


def no_trades(address: str) -> bool:
    return False


def test_gamma_proxy_confirmed_by_create2():
    r = resolve_address(EOA, lambda a: {"proxyWallet": SAFE.upper().replace("0X", "0x")}, no_trades)
    assert (r.proxy_wallet, r.wallet_type, r.resolved_by, r.proxy_separated) == (SAFE, "safe", "gamma+create2", True)


def test_gamma_proxy_not_matching_derivation_is_kept_as_unverified_proxy():
    other = "0x" + "12" * 20
    r = resolve_address(EOA, lambda a: {"proxyWallet": other}, no_trades)
    assert (r.proxy_wallet, r.wallet_type, r.resolved_by) == (other, "proxy", "gamma")


def test_no_profile_falls_back_to_derived_wallet_with_trades():
    r = resolve_address(EOA, lambda a: None, lambda a: a == PROXY)
    assert (r.proxy_wallet, r.wallet_type, r.resolved_by) == (PROXY, "proxy", "create2+data_api")


@pytest.mark.parametrize("deposit", [DEPOSIT_UUPS, DEPOSIT_BEACON])
def test_gamma_naming_a_deposit_wallet_yields_deposit(deposit):
    r = resolve_address(EOA, lambda a: {"proxyWallet": deposit}, no_trades)
    assert (r.proxy_wallet, r.wallet_type, r.resolved_by, r.proxy_separated) == (deposit, "deposit", "gamma+create2", True)


@pytest.mark.parametrize("deposit", [DEPOSIT_UUPS, DEPOSIT_BEACON])
def test_no_profile_resolves_to_the_deposit_wallet_that_has_trades(deposit):
    probed = []

    def has_trades(address):
        probed.append(address)
        return address == deposit

    r = resolve_address(EOA, lambda a: None, has_trades)
    assert (r.proxy_wallet, r.wallet_type, r.resolved_by, r.proxy_separated) == (deposit, "deposit", "create2+data_api", True)
    assert probed[:2] == [PROXY, SAFE] and probed[-1] == deposit and EOA not in probed


def test_derived_type_names_each_kind_and_nothing_else():
    assert [derived_type(EOA, w) for w in (EOA, PROXY, SAFE, DEPOSIT_UUPS, DEPOSIT_BEACON, "0x" + "12" * 20)] == [
        "direct", "proxy", "safe", "deposit", "deposit", None
    ]  # fmt: skip


def test_no_profile_but_own_trades_is_direct():
    r = resolve_address(EOA, lambda a: None, lambda a: a == EOA)
    assert (r.proxy_wallet, r.wallet_type, r.proxy_separated) == (EOA, "direct", False)


def test_nothing_anywhere_is_none():
    assert resolve_address(EOA, lambda a: None, no_trades) is None


def test_gamma_failure_uses_fallback_and_fails_only_when_it_finds_nothing():
    def broken(address):
        raise RuntimeError("HTTP 500")

    assert resolve_address(EOA, broken, lambda a: a == SAFE).proxy_wallet == SAFE
    with pytest.raises(ResolutionError, match="HTTP 500"):
        resolve_address(EOA, broken, no_trades)
