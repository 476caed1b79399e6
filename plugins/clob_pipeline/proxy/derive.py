"""Deterministic Polymarket proxy-wallet addresses (CREATE2 on Polygon), as an offline cross-check.

``address = keccak256(0xff ++ factory ++ salt ++ init_code_hash)[12:]`` with
- POLY_PROXY (Magic / email users): salt = keccak256(abi.encodePacked(eoa)) over the 20 bytes;
- GNOSIS_SAFE (browser wallets):    salt = keccak256(abi.encode(eoa)) over the 32-byte padded word.
Constants from Polymarket's SDKs and deployment docs (see shared/polymarket-api.md §4.2). A derived
address is only a *possible* wallet: whether the user deployed and trades from it must be checked.
"""

from __future__ import annotations

from eth_hash.auto import keccak

PROXY_FACTORY = bytes.fromhex("aB45c5A4B0c941a2F231C04C3f49182e1A254052")
PROXY_INIT_CODE_HASH = bytes.fromhex("d21df8dc65880a8606f09fe0ce3df9b8869287ab0b058be05aa9e8af6330a00b")
SAFE_FACTORY = bytes.fromhex("aacFeEa03eb1561C4e67d661e40682Bd20E3541b")
SAFE_INIT_CODE_HASH = bytes.fromhex("2bce2127ff07fb632d16c8347c4ebf501f4841168bed00d9e6ef715ddb6fcecf")


def _address_bytes(address: str) -> bytes:
    raw = bytes.fromhex(address[2:] if address.startswith(("0x", "0X")) else address)
    if len(raw) != 20:
        raise ValueError(f"not a 20-byte address: {address!r}")
    return raw


def _create2(factory: bytes, salt: bytes, init_code_hash: bytes) -> str:
    return "0x" + keccak(b"\xff" + factory + salt + init_code_hash)[12:].hex()


def derive_proxy_wallet(eoa: str) -> str:
    """The POLY_PROXY wallet of ``eoa`` (lower-case hex)."""
    return _create2(PROXY_FACTORY, keccak(_address_bytes(eoa)), PROXY_INIT_CODE_HASH)


def derive_safe_wallet(eoa: str) -> str:
    """The Gnosis Safe wallet of ``eoa`` (lower-case hex)."""
    return _create2(SAFE_FACTORY, keccak(_address_bytes(eoa).rjust(32, b"\0")), SAFE_INIT_CODE_HASH)


def derived_wallets(eoa: str) -> dict[str, str]:
    """Both candidates, keyed by wallet type."""
    return {"proxy": derive_proxy_wallet(eoa), "safe": derive_safe_wallet(eoa)}
