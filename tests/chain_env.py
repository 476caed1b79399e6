"""Test helpers for the chain source: the polygon_rpc connection and the chain's truth (no fixtures:
tests/conftest.py is shared; these are plain functions)."""

from __future__ import annotations

import json
from collections import Counter
from decimal import Decimal
from typing import Any

from conftest import ANCHOR_S, ch_rows
from fills_truth import Q6, stored_fills

# Both eras open from 210 days before the data set's anchor to the end: "all history" is ~14 M emulated blocks
# (not 64 M), and one block search (the window's start) is the only one a scan needs. V1 and V2 logs are
# still both read: the emulator writes V1 layouts before its cutover and V2 after.
NARROW_ERAS = {
    "eras": [
        {"name": "v1", "layout": "order_filled_v1", "first_s": ANCHOR_S - 210 * 86_400,
         "exchanges": ["0x4bfb41d5b3570defd03c39a9a4d8de6bd8b8982e", "0xc5d563a36ae78145c45a50134d48a1215220f80a"]},
        {"name": "v2", "layout": "order_filled_v2", "first_s": ANCHOR_S - 210 * 86_400,
         "exchanges": ["0xe111180000d2663c0091e4f400237545b87b996b", "0xe2222d279d744050d28e00520010520000310f59"]},
    ]
}  # fmt: skip


def point_polygon_rpc(monkeypatch: Any, emulator: Any, **extra: Any) -> str:
    """Aim the polygon_rpc connection at the emulator's JSON-RPC path; returns the URL. The budget is
    the emulator's (none) unless ``extra`` sets one: the default 100 per 10 s would make tests wait."""
    url = f"{emulator.url}/rpc"
    extra = {"rate_limit_requests": 5_000, "rate_limit_period_s": 1, **extra}
    monkeypatch.setenv("AIRFLOW_CONN_POLYGON_RPC", json.dumps({"conn_type": "http", "host": url, "extra": extra}))
    return url


def set_chain(emulator: Any, **settings: Any) -> dict:
    """Replace the emulator's chain settings (``{}`` = all off)."""
    return emulator.post("/__emulator/chain", settings)


def micro(value: int) -> Decimal:
    return (Decimal(value) / 1_000_000).quantize(Q6)


def chain_truth(emulator: Any, wallets: list[str], start_s: int = 0) -> Counter:
    """The wallets' fills as the emulated chain holds them, in the fills table's terms."""
    return Counter(
        (f.wallet, f"{f.tx}:{f.log_index}", f.tx, f.token, f.side, micro(f.size), micro(f.usdc * 1_000_000 // f.size), f.ts)
        for w in wallets
        for f in emulator.server.chain.wallet_fills(w)
        if f.ts >= start_s
    )


def stored_chain_fills(table: str = "clob_fills_v2") -> Counter:
    """The table's chain rows in :func:`chain_truth`'s terms (with the fill id)."""
    fields = "proxy_wallet, fill_id, transaction_hash, asset, side, size, price, toUnixTimestamp(timestamp)"
    return stored_fills(table, fields, "source = 'chain'")


def witness_truth(emulator: Any, wallets: list[str], start_s: int = 0) -> Counter:
    """The chain truth in the witness table's terms (with the fee)."""
    return Counter(
        (f.wallet, f.tx, f.log_index, f.block, f.ts, f.token, f.side, micro(f.size), micro(f.usdc), micro(f.fee), f.role)
        for w in wallets
        for f in emulator.server.chain.wallet_fills(w)
        if f.ts >= start_s
    )


def stored_witness() -> Counter:
    rows = ch_rows(
        "SELECT wallet, tx_hash, log_index, block_number, toUnixTimestamp(timestamp), token_id, side, size, usdc, fee, role "
        "FROM {db:Identifier}.clob_chain_fills FINAL"
    )
    return Counter(tuple(r) for r in rows)


def witness_raw_and_final() -> tuple[int, int]:
    raw = ch_rows("SELECT count() FROM {db:Identifier}.clob_chain_fills")[0][0]
    final = ch_rows("SELECT count() FROM {db:Identifier}.clob_chain_fills FINAL")[0][0]
    return raw, final
