"""CREATE2 proxy / Safe derivation against the reference test vectors (shared/polymarket-api.md §4.2)."""

from __future__ import annotations

import pytest

from clob_pipeline.proxy.derive import derive_proxy_wallet, derive_safe_wallet


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


def test_bad_address_is_rejected():
    with pytest.raises(ValueError, match="20-byte"):
        derive_proxy_wallet("0x1234")
