"""JSON-RPC quantities in the hook's own reads (finalized block, head, block timestamps, chain id) go through
the one parser the log decoder uses: a ``0x`` hex string (or a plain JSON integer), never a decimal string
read as hex. Misreading the finalized block's number makes every later range read above it."""

from __future__ import annotations

from typing import Any

import pytest

from clob_pipeline.chain.decode import ForeignLogError
from clob_pipeline.hooks.polygon_rpc import PolygonRpcHook

HEADER = {"number": "0x56a1d06", "timestamp": "0x6a64696e"}  # block 90,840,326 (test_chain_decode's real V2 log)


class ScriptedRpc(PolygonRpcHook):
    """The hook with ``call`` answered from a table (no connection, no network)."""

    def __init__(self, header: dict[str, Any]) -> None:
        super().__init__("polygon_rpc_unit")
        self.header = header

    def call(self, method: str, params: list[Any]) -> Any:
        if method == "eth_getBlockByNumber":
            return self.header
        if method == "eth_chainId":
            return self.header["number"]
        raise AssertionError(method)


def test_hex_quantities_are_read_as_hex():
    rpc = ScriptedRpc(HEADER)
    assert rpc.finalized()[:2] == (90_840_326, 1_784_965_486)
    assert rpc.block_timestamp(90_840_326) == 1_784_965_486


def test_plain_integers_are_read_as_numbers_like_in_logs():
    rpc = ScriptedRpc({"number": 90_840_326, "timestamp": 1_784_965_486})
    assert rpc.finalized()[:2] == (90_840_326, 1_784_965_486)
    assert rpc.block_timestamp(90_840_326) == 1_784_965_486


@pytest.mark.parametrize("field", ["number", "timestamp"])
def test_a_decimal_string_is_refused_not_read_as_hex(field):
    rpc = ScriptedRpc({**HEADER, field: "90840326"})
    with pytest.raises(ForeignLogError, match=field):
        rpc.finalized()
