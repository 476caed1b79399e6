"""CREATE2 proxy / Safe / deposit-wallet derivation against the reference test vectors (shared/polymarket-api.md §4.2)."""

from __future__ import annotations

import pytest

from clob_pipeline.proxy.derive import derive_deposit_wallets, derive_proxy_wallet, derive_safe_wallet, derived_wallets


@pytest.mark.parametrize(
    ("eoa", "proxy"),
    [
        ("0x0000000000000000000000000000000000000001", "0x7754536ecd85c00b2E0CF9c1aA679340D8550756"),
        ("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266", "0x365f0CA36Ae1f641E02fE3B7743673da42A13A70"),
        ("0x9d699747148fd637a7d2514f9b3e3028bf59195c", "0xcbaaa60c5dec85eac2a2c424bdcd7258ab67eee2"),
    ],
)
def test_proxy_vectors(eoa, proxy):
    assert derive_proxy_wallet(eoa) == proxy.lower()


@pytest.mark.parametrize(
    ("eoa", "safe"),
    [
        ("0x0000000000000000000000000000000000000001", "0x766b6851A199BF91Ae3fa13B1cfaC5187355118f"),
        ("0x6e0c80c90ea6c15917308F820Eac91Ce2724B5b5", "0x6d8c4e9aDF5748Af82Dabe2C6225207770d6B4fa"),
        ("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266", "0xd93B25cb943D14d0d34FBaF01Fc93a0f8b5F6E47"),
        ("0xBBc264c10F54A61607A31B53358a5A87d4B045be", "0xEFae63145ffb73Ab047e578324bcA9BaABE5E1Ad"),
    ],
)
def test_safe_vectors(eoa, safe):
    assert derive_safe_wallet(eoa) == safe.lower()


@pytest.mark.parametrize(
    ("eoa", "uups", "beacon"),
    [
        # §4.2 (golden test of polymarket._internal.wallet; beacon also py-builder-relayer-client test_derive.py)
        (
            "0x0000000000000000000000000000000000000001",
            "0x57ffBc34De23124fAeb8387fcd689d314E57aCcD",
            "0x94bF330955A0b957662fEaF878dE77bf25f76cD9",
        ),
        # Polymarket/py-builder-relayer-client tests/builder/test_derive.py, UUPS on the Polygon factory
        ("0xA60601A4d903af91855C52BFB3814f6bA342f201", "0x8b60BF0f650Bf7a0d93F10D72375b37De18F8c40", None),
    ],
)
def test_deposit_wallet_vectors(eoa, uups, beacon):
    derived = derive_deposit_wallets(eoa)
    assert derived[0] == uups.lower()
    if beacon:
        assert derived[1] == beacon.lower()


def test_derived_wallets_lists_every_kind_once_per_form():
    eoa = "0x0000000000000000000000000000000000000001"
    assert derived_wallets(eoa) == [
        ("proxy", "0x7754536ecd85c00b2e0cf9c1aa679340d8550756"),
        ("safe", "0x766b6851a199bf91ae3fa13b1cfac5187355118f"),
        ("deposit", "0x57ffbc34de23124faeb8387fcd689d314e57accd"),
        ("deposit", "0x94bf330955a0b957662feaf878de77bf25f76cd9"),
    ]


@pytest.mark.parametrize("derive", [derive_proxy_wallet, derive_safe_wallet, derive_deposit_wallets])
def test_bad_address_is_rejected(derive):
    with pytest.raises(ValueError, match="20-byte"):
        derive("0x1234")
