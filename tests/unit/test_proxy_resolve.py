"""Resolution order of evidence, with fake lookups (no HTTP): every wallet of an address with evidence."""

from __future__ import annotations

import pytest

from clob_pipeline.proxy.derive import derive_proxy_wallet, derive_safe_wallet, derived_type
from clob_pipeline.proxy.resolve import ResolutionError, resolve_address

EOA = "0x0000000000000000000000000000000000000001"
PROXY, SAFE = derive_proxy_wallet(EOA), derive_safe_wallet(EOA)
# The deposit wallet of EOA in its UUPS and beacon forms (published vectors, polymarket-api.md §4.2)
DEPOSIT_UUPS = "0x57ffbc34de23124faeb8387fcd689d314e57accd"
DEPOSIT_BEACON = "0x94bf330955a0b957662feaf878de77bf25f76cd9"
CANDIDATES = [PROXY, SAFE, DEPOSIT_UUPS, DEPOSIT_BEACON, EOA]  # the probe order


def wallets_of(*args):
    return resolve_address(*args).wallets


def no_trades(address: str) -> bool:
    return False


def rows(resolutions) -> list[tuple[str, str, str]]:
    return [(r.proxy_wallet, r.wallet_type, r.resolved_by) for r in resolutions]


class Probe:
    """A has-trades probe that answers True for ``traders`` and records what it was asked."""

    def __init__(self, *traders: str) -> None:
        self.traders, self.asked = set(traders), []

    def __call__(self, address: str) -> bool:
        self.asked.append(address)
        return address in self.traders


def test_gamma_proxy_confirmed_by_create2():
    [r] = wallets_of(EOA, lambda a: {"proxyWallet": SAFE.upper().replace("0X", "0x")}, no_trades)
    assert (r.proxy_wallet, r.wallet_type, r.resolved_by, r.proxy_separated) == (SAFE, "safe", "gamma+create2", True)


def test_gamma_proxy_not_matching_derivation_is_kept_as_unverified_proxy():
    other = "0x" + "12" * 20
    probe = Probe()
    assert rows(wallets_of(EOA, lambda a: {"proxyWallet": other}, probe)) == [(other, "proxy", "gamma")]
    assert probe.asked == CANDIDATES  # Gamma's wallet is none of them: all five are probed


def test_no_profile_falls_back_to_derived_wallet_with_trades():
    assert rows(wallets_of(EOA, lambda a: None, Probe(PROXY))) == [(PROXY, "proxy", "create2+data_api")]


@pytest.mark.parametrize("deposit", [DEPOSIT_UUPS, DEPOSIT_BEACON])
def test_gamma_naming_a_deposit_wallet_yields_deposit(deposit):
    [r] = wallets_of(EOA, lambda a: {"proxyWallet": deposit}, no_trades)
    assert (r.proxy_wallet, r.wallet_type, r.resolved_by, r.proxy_separated) == (deposit, "deposit", "gamma+create2", True)


@pytest.mark.parametrize("deposit", [DEPOSIT_UUPS, DEPOSIT_BEACON])
def test_no_profile_resolves_to_the_deposit_wallet_that_has_trades(deposit):
    probe = Probe(deposit)
    [r] = wallets_of(EOA, lambda a: None, probe)
    assert (r.proxy_wallet, r.wallet_type, r.resolved_by, r.proxy_separated) == (deposit, "deposit", "create2+data_api", True)
    assert probe.asked == CANDIDATES


def test_gamma_named_safe_and_a_deposit_wallet_with_trades_resolve_to_both():
    """An older Safe user who later got a deposit wallet for API trading: Gamma names only the Safe."""
    probe = Probe(SAFE, DEPOSIT_UUPS)
    found = wallets_of(EOA, lambda a: {"proxyWallet": SAFE}, probe)
    assert rows(found) == [(SAFE, "safe", "gamma+create2"), (DEPOSIT_UUPS, "deposit", "create2+data_api")]
    assert {r.user_eoa for r in found} == {EOA}
    assert probe.asked == [PROXY, DEPOSIT_UUPS, DEPOSIT_BEACON, EOA]  # 4 probes: not the Safe Gamma named


def test_every_wallet_with_trades_is_its_own_resolution_the_eoa_last():
    found = wallets_of(EOA, lambda a: None, Probe(*CANDIDATES))
    assert rows(found) == [
        (PROXY, "proxy", "create2+data_api"),
        (SAFE, "safe", "create2+data_api"),
        (DEPOSIT_UUPS, "deposit", "create2+data_api"),
        (DEPOSIT_BEACON, "deposit", "create2+data_api"),
        (EOA, "direct", "data_api"),
    ]


def test_gamma_named_proxy_and_the_eoa_trading_itself_resolve_to_both():
    found = wallets_of(EOA, lambda a: {"proxyWallet": PROXY}, Probe(EOA))
    assert rows(found) == [(PROXY, "proxy", "gamma+create2"), (EOA, "direct", "data_api")]


def test_derived_type_names_each_kind_and_nothing_else():
    assert [derived_type(EOA, w) for w in (EOA, PROXY, SAFE, DEPOSIT_UUPS, DEPOSIT_BEACON, "0x" + "12" * 20)] == [
        "direct", "proxy", "safe", "deposit", "deposit", None
    ]  # fmt: skip


def test_only_own_trades_resolves_to_direct_only():
    probe = Probe(EOA)
    [r] = wallets_of(EOA, lambda a: None, probe)
    assert (r.proxy_wallet, r.wallet_type, r.resolved_by, r.proxy_separated) == (EOA, "direct", "data_api", False)
    assert probe.asked == CANDIDATES


def test_nothing_anywhere_is_no_wallet():
    assert wallets_of(EOA, lambda a: None, no_trades) == []


def test_gamma_failure_uses_the_probes_and_fails_only_when_they_find_nothing():
    def broken(address):
        raise RuntimeError("HTTP 500")

    result = resolve_address(EOA, broken, Probe(SAFE, EOA))
    assert rows(result.wallets) == [(SAFE, "safe", "create2+data_api"), (EOA, "direct", "data_api")]
    assert result.gamma_error == "RuntimeError: HTTP 500"  # said, not silently missing: Gamma's wallet may be another
    probe = Probe()
    with pytest.raises(ResolutionError, match="HTTP 500"):
        wallets_of(EOA, broken, probe)
    assert probe.asked == CANDIDATES  # every candidate was asked before the lookup counted as failed


def test_a_gamma_answer_carries_no_error_even_with_nothing_found():
    assert resolve_address(EOA, lambda a: {"proxyWallet": SAFE}, Probe(EOA)).gamma_error == ""
    assert resolve_address(EOA, lambda a: None, no_trades) == ([], "")
