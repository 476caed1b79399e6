"""Compare what ClickHouse holds with what the emulator serves, field by field (a multiset)."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

from conftest import ch_rows

Q6 = Decimal("0.000001")


def expected_fills(emulator, wallets, start_s: int = 0) -> Counter:
    return Counter(
        (f.wallet, f.tx, f.asset, f.side, Decimal(repr(f.size)).quantize(Q6), Decimal(repr(f.price)).quantize(Q6), f.ts)
        for w in wallets
        for f in emulator.dataset.visible_fills(w)
        if f.ts >= start_s
    )


FILL_FIELDS = "proxy_wallet, transaction_hash, asset, side, size, price, toUnixTimestamp(timestamp)"


def stored_fills(table: str = "clob_fills_v2", fields: str = FILL_FIELDS, where: str = "1") -> Counter:
    """``fields`` of ``table`` FINAL as a multiset (``fields`` and ``where`` are the tests' own SQL, never input)."""
    rows = ch_rows(f"SELECT {fields} FROM {{db:Identifier}}.{{t:Identifier}} FINAL WHERE {where}", {"t": table})
    return Counter(tuple(r) for r in rows)


def physical_and_final_counts(table: str = "clob_fills_v2") -> tuple[int, int]:
    """Rows on disk vs rows after dedup: equal means no duplicate was ever written."""
    raw = ch_rows("SELECT count() FROM {db:Identifier}.{t:Identifier}", {"t": table})[0][0]
    final = ch_rows("SELECT count() FROM {db:Identifier}.{t:Identifier} FINAL", {"t": table})[0][0]
    return raw, final


def ledger_and_table_counts(table: str = "clob_fills_v2") -> tuple[dict[str, int], dict[str, int]]:
    """Per-wallet fill counts the loaders recorded for ``table`` vs the table's own (FINAL) counts."""
    ledger = ch_rows(
        "SELECT wallet, argMax(fills_total, updated_at) FROM {db:Identifier}.wallet_sync_state "
        "WHERE table_uuid = (SELECT uuid FROM system.tables WHERE database = {db:String} AND name = {t:String}) "
        "GROUP BY wallet",
        {"t": table},
    )
    stored = ch_rows("SELECT proxy_wallet, count() FROM {db:Identifier}.{t:Identifier} FINAL GROUP BY proxy_wallet", {"t": table})
    return dict(ledger), dict(stored)
