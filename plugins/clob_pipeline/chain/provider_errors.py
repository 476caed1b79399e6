"""What a provider's JSON-RPC error says about its limits (pure).

Providers cap ``eth_getLogs`` by block range and by result count, each in its own words, and some
suggest a range that works (``shared/polymarket-api.md`` §6.5; the patterns follow ponder-sh/ponder's
``getLogsRetryHelper``, which collects them per provider). Three answers matter to the planner:

- ``suggested``: a range to use (Infura -32005 "Try with this block range [0x…, 0x…]", Alchemy
  "this block range should work: [0x…, 0x…]");
- ``cap``: a maximum span in blocks (QuickNode "limited to a 10,000 range", PublicNode "maximum block
  range: 50000", thirdweb, Alchemy's older "up to a 2K block range", …);
- ``halve``: too much without a number (too many results, response too large, range too large).

Rate limits answered inside a 200 (code 429, or -32005 about the request rate rather than results)
are told apart by :func:`is_rate_limit`; the hook pauses the shared budget for them like an HTTP 429.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, NamedTuple

_SUGGESTED = (
    re.compile(r"Try with this block range \[(0x[0-9a-fA-F]+),\s*(0x[0-9a-fA-F]+)\]"),  # Infura, zkSync
    re.compile(r"this block range should work: \[(0x[0-9a-fA-F]+),\s*(0x[0-9a-fA-F]+)\]"),  # Alchemy
)
_CAPS = (
    re.compile(r"limited to a ([\d,.]+)"),  # QuickNode, 1RPC, Blast
    re.compile(r"maximum block range:? ([\d,.]+)"),  # PublicNode "exceed maximum block range: 50000"
    re.compile(r"Maximum allowed number of requested blocks is ([\d,.]+)"),  # thirdweb
    re.compile(r"up to a ([\d,.]+[kK]?) block range"),  # Alchemy (older text), Aurora
    re.compile(r"block range is too wide \(maximum ([\d,.]+)\)"),
    re.compile(r"maximum is set to ([\d,.]+)"),
    re.compile(r"Max range: ([\d,.]+)"),  # Cloudflare
    re.compile(r"limited to ([\d,.]+) block"),  # BlockPI
    re.compile(r"at most ([\d,.]+) blocks"),  # Coinbase
    re.compile(r"max block range ([\d,.]+)"),
    re.compile(r"block range (?:greater than|exceeds) ([\d,.]+)"),
    re.compile(r"blocks distance: ([\d,.]+)"),  # Ankr
)
_HALVE = re.compile(
    r"query returned more than \d+ results|query exceeds max results|exceeds limit of \d+|response size|"
    r"response too large|range (?:is )?too (?:large|wide|big)|too many (?:logs|results|blocks)|"
    r"block range limit exceeded|exceed(?:s|ed)? (?:the )?(?:maximum|max) (?:block )?range",
    re.IGNORECASE,
)
_RATE = re.compile(
    r"rate limit|too many requests|request rate|rate exceeded|requests? (?:per|limit)|daily request count|"
    r"capacity exceeded|compute units|quota|throughput",
    re.IGNORECASE,
)


class LogsLimit(NamedTuple):
    kind: str  # "suggested" | "cap" | "halve"
    span: int | None  # blocks to ask next (suggested, cap); None for halve


def error_text(error: Any) -> str:
    """The error object as one line (code, message and data), for matching and for logs."""
    if isinstance(error, Mapping):
        parts = [f"code {error.get('code')}", str(error.get("message", ""))]
        if error.get("data") not in (None, ""):
            parts.append(str(error.get("data")))
        return ": ".join(parts)
    return str(error)


def _number(text: str) -> int:
    text = text.replace(",", "").replace(".", "")
    return int(text[:-1]) * 1000 if text[-1:] in "kK" else int(text)


def classify_logs_error(error: Any) -> LogsLimit | None:
    """The limit an ``eth_getLogs`` error answer states, or None when it states none."""
    text = error_text(error)
    for pattern in _SUGGESTED:
        if match := pattern.search(text):
            lo, hi = int(match.group(1), 16), int(match.group(2), 16)
            return LogsLimit("suggested", max(1, hi - lo + 1))
    for pattern in _CAPS:
        if match := pattern.search(text):
            try:
                return LogsLimit("cap", max(1, _number(match.group(1))))
            except ValueError:
                break
    if _HALVE.search(text):
        return LogsLimit("halve", None)
    return None


def is_rate_limit(error: Any) -> bool:
    """A JSON-RPC error that says "too many requests" (not "too many results")."""
    code = error.get("code") if isinstance(error, Mapping) else None
    if code == 429:
        return True
    text = error_text(error)
    return bool(_RATE.search(text)) and classify_logs_error(error) is None
