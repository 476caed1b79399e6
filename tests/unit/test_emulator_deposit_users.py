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


def test_two_wallet_users_add_a_second_wallet_each_and_change_nothing_else():
    plain = build_dataset(wallets=6, proxy_users=4, deposit_users=1, fills_per_wallet=30, anchor_s=1_750_000_000)
    two = build_dataset(
        wallets=6, proxy_users=4, deposit_users=1, two_wallet_users=2, fills_per_wallet=30, anchor_s=1_750_000_000
    )
    assert two.users[:6] == plain.users
    for user in plain.users:
        assert two.visible_fills(user.proxy_wallet) == plain.visible_fills(user.proxy_wallet)
    safe_user, proxy_user = plain.users[1], plain.users[2]  # Gamma profiles both (user 0 owns the CLOB key)
    assert [(u.user_eoa, u.proxy_wallet, u.wallet_type, u.in_gamma) for u in two.users[6:]] == [
        (safe_user.user_eoa, derive_deposit_wallets(safe_user.user_eoa)[0], "deposit", False),
        (proxy_user.user_eoa, proxy_user.user_eoa, "direct", False),
    ]
    for second in two.users[6:]:
        fills = two.visible_fills(second.proxy_wallet)
        assert fills and {f.wallet for f in fills} == {second.proxy_wallet}
