"""Deterministic Polymarket wallet addresses (CREATE2 on Polygon), as an offline cross-check.

``address = keccak256(0xff ++ factory ++ salt ++ init_code_hash)[12:]`` with
- POLY_PROXY (Magic / email users): salt = keccak256(abi.encodePacked(eoa)) over the 20 bytes;
- GNOSIS_SAFE (browser wallets):    salt = keccak256(abi.encode(eoa)) over the 32-byte padded word;
- DEPOSIT_WALLET (signature type 3, every account deployed since 2026-05-04): args =
  abi.encode(factory, walletId) with walletId = bytes32(eoa), salt = keccak256(args), and the init
  code of a Solady LibClone ERC-1967 proxy carrying ``args`` as immutable args. Two forms exist: the
  UUPS proxy of the implementation (wallets before the 2026-06-29 upgrade) and the beacon proxy.
Constants from Polymarket's SDKs and deployment docs (see shared/polymarket-api.md §4.2). A derived
address is only a *possible* wallet: whether the user deployed and trades from it must be checked.
"""

from __future__ import annotations

from eth_hash.auto import keccak

PROXY_FACTORY = bytes.fromhex("aB45c5A4B0c941a2F231C04C3f49182e1A254052")
PROXY_INIT_CODE_HASH = bytes.fromhex("d21df8dc65880a8606f09fe0ce3df9b8869287ab0b058be05aa9e8af6330a00b")
SAFE_FACTORY = bytes.fromhex("aacFeEa03eb1561C4e67d661e40682Bd20E3541b")
SAFE_INIT_CODE_HASH = bytes.fromhex("2bce2127ff07fb632d16c8347c4ebf501f4841168bed00d9e6ef715ddb6fcecf")
DEPOSIT_FACTORY = bytes.fromhex("00000000000Fb5C9ADea0298D729A0CB3823Cc07")
DEPOSIT_IMPLEMENTATION = bytes.fromhex("58CA52ebe0DadfdF531Cde7062e76746de4Db1eB")  # the UUPS form's
DEPOSIT_BEACON = bytes.fromhex("7A18EDfe055488A3128f01F563e5B479D92ffc3a")  # the beacon form's

# Init code of Solady's LibClone (v0.1.26, tag commit acd959aa4bd04720d640bf4e6a5c71037510cc4b,
# src/utils/LibClone.sol), read from the bytes its assembly lays out in memory:
# - `initCodeERC1967(implementation, args)`: PUSH2 (0x3d + len(args)) prefix `61 003d 3d8160233d3973`,
#   the implementation, `6009`, then the words 0x5155f336…3e2076 and 0xcc3735a9…6000f3, then args;
# - `initCodeERC1967BeaconProxy(beacon, args)`: prefix `61 0052 3d8160233d3973`, the beacon, the 23 bytes
#   0x60195155…5c60da, the words 0x1b60e01b…59ff6c and 0xb3582b35…6000f3, then args.
# `initCodeHashERC1967*(…, args)` are the keccak256 of exactly these bytes. Polymarket's
# py-builder-relayer-client (builder/derive.py) builds the same bytes; the vectors in the tests check them.
_ERC1967_PREFIX = 0x61003D3D8160233D3973  # + len(args) << 56: the PUSH2 operand is 0x3d + len(args)
_ERC1967_MIDDLE = bytes.fromhex(
    "6009"
    "5155f3363d3d373d3d363d7f360894a13ba1a3210667c828492db98dca3e2076"
    "cc3735a920a3ca505d382bbc545af43d6000803e6038573d6000fd5b3d6000f3"
)
_BEACON_PREFIX = 0x6100523D8160233D3973  # + len(args) << 56: the PUSH2 operand is 0x52 + len(args)
_BEACON_MIDDLE = bytes.fromhex(
    "60195155f3363d3d373d3d363d602036600436635c60da"
    "1b60e01b36527fa3f0ad74e5423aebfd80d3ef4346578335a9a72aeaee59ff6c"
    "b3582b35133d50545afa5036515af43d6000803e604d573d6000fd5b3d6000f3"
)


def _address_bytes(address: str) -> bytes:
    raw = bytes.fromhex(address[2:] if address.startswith(("0x", "0X")) else address)
    if len(raw) != 20:
        raise ValueError(f"not a 20-byte address: {address!r}")
    return raw


def _create2(factory: bytes, salt: bytes, init_code_hash: bytes) -> str:
    return "0x" + keccak(b"\xff" + factory + salt + init_code_hash)[12:].hex()


def _clone_init_code(prefix: int, target: bytes, middle: bytes, args: bytes) -> bytes:
    """A LibClone ERC-1967 (UUPS or beacon) proxy's init code with immutable ``args``."""
    return (prefix + (len(args) << 56)).to_bytes(10, "big") + target + middle + args


def derive_proxy_wallet(eoa: str) -> str:
    """The POLY_PROXY wallet of ``eoa`` (lower-case hex)."""
    return _create2(PROXY_FACTORY, keccak(_address_bytes(eoa)), PROXY_INIT_CODE_HASH)


def derive_safe_wallet(eoa: str) -> str:
    """The Gnosis Safe wallet of ``eoa`` (lower-case hex)."""
    return _create2(SAFE_FACTORY, keccak(_address_bytes(eoa).rjust(32, b"\0")), SAFE_INIT_CODE_HASH)


def derive_deposit_wallets(eoa: str) -> tuple[str, str]:
    """The deposit wallet of ``eoa`` in its UUPS form, then its beacon form (lower-case hex).

    Which form a given owner has is on-chain state (the factory knows); both are candidates."""
    args = DEPOSIT_FACTORY.rjust(32, b"\0") + _address_bytes(eoa).rjust(32, b"\0")  # abi.encode(factory, walletId)
    salt = keccak(args)
    uups = _clone_init_code(_ERC1967_PREFIX, DEPOSIT_IMPLEMENTATION, _ERC1967_MIDDLE, args)
    beacon = _clone_init_code(_BEACON_PREFIX, DEPOSIT_BEACON, _BEACON_MIDDLE, args)
    return _create2(DEPOSIT_FACTORY, salt, keccak(uups)), _create2(DEPOSIT_FACTORY, salt, keccak(beacon))


def derived_wallets(eoa: str) -> list[tuple[str, str]]:
    """Every candidate as ``(wallet_type, address)``: proxy, Safe, then the two deposit-wallet forms."""
    uups, beacon = derive_deposit_wallets(eoa)
    return [("proxy", derive_proxy_wallet(eoa)), ("safe", derive_safe_wallet(eoa)), ("deposit", uups), ("deposit", beacon)]


def derived_type(eoa: str, wallet: str) -> str | None:
    """Which kind ``wallet`` is for ``eoa`` by derivation: ``direct`` (the EOA itself), ``proxy``,
    ``safe`` or ``deposit``; ``None`` when it is none of them (both lower-case hex)."""
    if wallet == eoa:
        return "direct"
    return next((kind for kind, candidate in derived_wallets(eoa) if candidate == wallet), None)
