"""The storage rule between chain fills and API fills: a fills table never holds one wallet's fills
from both families.

Why: the APIs (Data API v1/v2, CLOB) and the chain identify a fill differently. API fills share one
identity, their content and rank (``identity.py``), so they replace each other across those sources.
A chain fill's identity is its transaction hash and log index, which no API row carries, and an API
row may merge several on-chain fills or round their price. Letting both into one table would store
a trade twice under two ids. So each wallet of a fills table is loaded from one family: the loader
refuses, before writing anything, a wallet whose stored fills come from the other family (naming
it), and the promotion check ``check_one_source_family`` blocks a staging table that holds both.
The chain's own record lives apart in ``clob_chain_fills`` (the witness), which is never promoted.
To move a wallet to the other family, load it into a staging table that does not hold it (after a
promotion staging is empty) and promote.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from clob_pipeline.errors import NotRetryableError

CHAIN_SOURCES = frozenset({"chain"})


class MixedSourcesError(NotRetryableError, ValueError):
    """A wallet would get fills of both families (chain and API) in one fills table."""


def family(source: str) -> str:
    return "chain" if source in CHAIN_SOURCES else "api"


def mixed_wallets(source: str, stored_sources: Mapping[str, Iterable[str]]) -> dict[str, list[str]]:
    """Wallets whose stored sources include the other family than ``source``'s, with those sources."""
    mine = family(source)
    return {
        wallet: sorted(other)
        for wallet, sources in stored_sources.items()
        if (other := {s for s in sources if family(s) != mine})
    }


def refuse_mixed_sources(ch: Any, fills_table: str, source: str, wallets: list[str]) -> None:
    """Raise ``MixedSourcesError`` naming every wallet of ``wallets`` whose fills in ``fills_table``
    come from the other family; nothing has been written when it does."""
    stored = {w: s for w, s in ch.query_file("fills/wallet_sources.sql", {"fills_table": fills_table, "wallets": wallets})}
    mixed = mixed_wallets(source, stored)
    if mixed:
        listed = "; ".join(f"{w} has {', '.join(s)} fills" for w, s in list(mixed.items())[:10])
        raise MixedSourcesError(
            f"source={source} refused for {len(mixed)} wallet(s) of {fills_table}: {listed}. A fills table holds one "
            f"wallet's fills from the chain or from the APIs, never both (README, 'Chain fills and API fills'). Load "
            "them with their stored family, or into a staging table that does not hold them yet, then promote. "
            "Nothing was written."
        )
