"""Local emulator of the Polymarket Data API, CLOB trades and Gamma profile endpoints.

Part of the bundle because ``make demo`` and the tests need it; production points the same hooks
at the real hosts through Airflow Connections. Start it with ``python -m polymarket_emulator``.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from polymarket_emulator.chain import Chain, ChainSettings
from polymarket_emulator.dataset import Dataset, build_dataset
from polymarket_emulator.server import ClobCredentials, EmulatorServer, EmulatorState, Paging

# Deterministic demo credentials for the emulated CLOB (not a real key; derived from a label).
DEMO_CLOB_SECRET = base64.urlsafe_b64encode(hashlib.sha256(b"clob-pipeline emulator").digest()).decode()
DEMO_CLOB_API_KEY = "00000000-0000-4000-8000-0000000000e1"
DEMO_CLOB_PASSPHRASE = "emulator-passphrase"
DEMO_CLOB_ADDRESS = "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266"


def make_server(
    dataset: Dataset | None = None,
    port: int = 0,
    rate_scale: float = 1.0,
    paging: Paging | dict[str, Any] | None = None,
    latency_ms: float = 0.0,
    chain: dict[str, Any] | None = None,
    **dataset_kwargs: object,
) -> EmulatorServer:
    """An emulator on 127.0.0.1 (port 0 = a free one); the CLOB key owner is the first wallet.

    ``paging``: paging faults switched on from the start (a :class:`Paging` or its fields as a dict);
    ``/__emulator/reset`` turns them off again. ``latency_ms`` delays every API response (what
    production's round trip costs). ``chain``: JSON-RPC settings and faults (``chain.ChainSettings``)."""
    dataset = dataset or build_dataset(**dataset_kwargs)  # type: ignore[arg-type]
    creds = ClobCredentials(
        address=DEMO_CLOB_ADDRESS,
        api_key=DEMO_CLOB_API_KEY,
        secret=DEMO_CLOB_SECRET,
        passphrase=DEMO_CLOB_PASSPHRASE,
        funder=dataset.wallets[0],
    )
    paging = Paging(**paging) if isinstance(paging, dict) else paging or Paging()
    state = EmulatorState(dataset=dataset, clob=creds, rate_scale=rate_scale, paging=paging)
    server = EmulatorServer(state, port=port, latency_s=latency_ms / 1000)
    server.chain = Chain(dataset, ChainSettings(**(chain or {})))  # type: ignore[attr-defined]
    return server


__all__ = ["Dataset", "EmulatorServer", "Paging", "build_dataset", "make_server"]
