"""The emulator's deposit-wallet users: derived like production derives them, both forms, one without a
Gamma profile, and the rest of the data set unchanged by them."""

from __future__ import annotations

from clob_pipeline.proxy.derive import derive_deposit_wallets, derived_type
from polymarket_emulator.dataset import build_dataset


def test_deposit_users_take_direct_traders_places_and_change_no_fill():
    plain = build_dataset(wallets=6, proxy_users=2, fills_per_wallet=30, anchor_s=1_750_000_000)
    with_deposit = build_dataset(wallets=6, proxy_users=2, deposit_users=3, fills_per_wallet=30, anchor_s=1_750_000_000)
    kinds = [(u.wallet_type, u.in_gamma) for u in with_deposit.users]
    assert kinds == [("proxy", True), ("safe", False), ("deposit", True), ("deposit", True), ("deposit", False), ("direct", True)]
    deposits = [u for u in with_deposit.users if u.wallet_type == "deposit"]
    assert [derive_deposit_wallets(u.user_eoa).index(u.proxy_wallet) for u in deposits] == [0, 1, 0]  # UUPS, beacon, UUPS
    for before, after in zip(plain.users, with_deposit.users, strict=True):
        assert after.user_eoa == before.user_eoa
        assert derived_type(after.user_eoa, after.proxy_wallet) == after.wallet_type
        fills = [f._replace(wallet="") for f in with_deposit.visible_fills(after.proxy_wallet)]
        assert fills == [f._replace(wallet="") for f in plain.visible_fills(before.proxy_wallet)] and fills
