"""Polygon JSON-RPC over HTTP for the chain source, on the bundle's Polymarket hook plumbing.

Connection ``polygon_rpc`` (conn_type http): ``host`` is the provider's full JSON-RPC URL as users
copy it (``https://polygon-mainnet.infura.io/v3/<key>``). The URL's path and query usually hold the
key, so the hook never logs them: errors name the scheme and host only.

Why a subclass of ``PolymarketHook``: the same per-thread keep-alive sessions, the same shared rate
limiter (``throttle.SlotLimiter``: one budget per provider URL, every method, every process of the
host), the same 429 / Retry-After / 5xx / timeout retries. The differences: each attempt POSTs a
JSON-RPC body to the URL itself, and a 200 can still carry an error object. Rate-limit errors in a
200 (code 429, or -32005 about the request rate) pause the budget like an HTTP 429; every other
error object is handed back to the caller (``eth_getLogs`` errors state the provider's limits).

Connection extras (never sent as headers), besides the rate-limit ones of ``PolymarketHook``
(default budget 100 requests per 10 s; set ``rate_limit_requests`` to your plan's):
``logs_initial_span`` (2,000 blocks), ``logs_max_span`` (100,000), ``finality_depth`` (256: read
up to head minus this many blocks where the provider has no ``finalized`` tag), ``chain_config``
(override of ``chain/contracts.py``'s table, a JSON object or file path).
"""

from __future__ import annotations

import itertools
from typing import Any
from urllib.parse import urlsplit

import requests

from clob_pipeline.chain.contracts import ChainConfig, load_chain_config
from clob_pipeline.chain.decode import hex_int
from clob_pipeline.chain.provider_errors import error_text, is_rate_limit
from clob_pipeline.config import POLYGON_RPC_CONN_ID
from clob_pipeline.errors import NotRetryableError
from clob_pipeline.fills.pagers import UnexpectedResponseError
from clob_pipeline.hooks.polymarket import PolymarketApiError, PolymarketHook, RetryableAnswerError

_CHAIN_EXTRAS = ("logs_initial_span", "logs_max_span", "finality_depth", "chain_config")


class RpcError(RuntimeError):
    """A JSON-RPC error answer to a method other than ``eth_getLogs`` (those go to the planner)."""

    def __init__(self, method: str, error: Any) -> None:
        super().__init__(f"{method}: the provider answered {error_text(error)}")
        self.error = error


class WrongChainError(NotRetryableError, RuntimeError):
    """The polygon_rpc host serves another chain than the configured one."""


class MissingBlockError(NotRetryableError, RuntimeError):
    """The provider has no header for a block at or below the finalized one (pruned or lagging)."""


def redact(text: str, url: str) -> str:
    """``text`` without the URL's secrets (user info, path, query): providers put keys there."""
    parts = urlsplit(url)
    for secret in (parts.password, parts.username, parts.query, parts.path if len(parts.path) > 1 else ""):
        if secret:
            text = text.replace(secret, "<redacted>")
    return text


class PolygonRpcHook(PolymarketHook):
    """JSON-RPC calls with the shared budget; ``call`` returns a result, ``call_raw`` the envelope."""

    conn_name_attr = "polygon_rpc_conn_id"
    default_conn_name = POLYGON_RPC_CONN_ID
    hook_name = "Polygon JSON-RPC"
    default_rate_limit = (100, 10.0)  # providers' plans differ: set rate_limit_requests on the connection

    def __init__(self, polygon_rpc_conn_id: str | None = None) -> None:
        super().__init__(polygon_rpc_conn_id)
        self.method = "POST"
        self._ids = itertools.count(1)
        self._chain: dict[str, Any] = {}

    # --- plumbing ------------------------------------------------------------------------------
    @property
    def safe_url(self) -> str:
        """Scheme and host of the provider, for logs (never its path or query)."""
        parts = urlsplit(self.url_from_endpoint(""))
        return f"{parts.scheme}://{parts.hostname}" + (f":{parts.port}" if parts.port else "")

    def get_conn(self, headers: dict[Any, Any] | None = None, extra_options: dict[str, Any] | None = None) -> requests.Session:
        session = super().get_conn(headers, extra_options)
        for key in _CHAIN_EXTRAS:
            session.headers.pop(key, None)
        return session

    def url_from_endpoint(self, endpoint: str | None) -> str:
        """Every method goes to the provider URL itself (the method is in the body)."""
        return super().url_from_endpoint("")

    def _limiter(self, endpoint: str) -> Any:
        """One budget for every method: providers count requests per key, not per method."""
        return super()._limiter("")

    def _request(self, endpoint: str, url: str, params: Any) -> requests.Request:
        request_id = next(self._ids)
        self._local.rpc_id = request_id
        body = {"jsonrpc": "2.0", "id": request_id, "method": endpoint, "params": params}
        return requests.Request("POST", url, json=body, headers={"Content-Type": "application/json"})

    def run_and_check(self, session: requests.Session, prepped_request: Any, extra_options: dict[Any, Any]) -> Any:
        """Send without logging the URL; a network error's text loses the URL's secrets. A 400 or 413
        that carries a JSON-RPC error object is that error's answer (some providers send range errors so):
        it reaches the caller like a 200, where the envelope decides."""
        try:
            response = session.send(prepped_request, timeout=extra_options.get("timeout"))
        except requests.RequestException as ex:
            raise type(ex)(redact(str(ex), self.url_from_endpoint(""))) from None
        if response.status_code in (400, 413):
            try:
                body = response.json()
            except ValueError:
                body = None
            if isinstance(body, dict) and isinstance(body.get("error"), dict):
                response.status_code = 200
        return response

    @property
    def chain_settings(self) -> dict[str, Any]:
        """The chain extras of the connection, read once."""
        if not self._chain:
            extra = self.get_connection(self.http_conn_id).extra_dejson
            self._chain = {
                "initial_span": int(extra.get("logs_initial_span", 2_000)),
                "max_span": int(extra.get("logs_max_span", 100_000)),
                "finality_depth": int(extra.get("finality_depth", 256)),
                "config": load_chain_config(extra.get("chain_config")),
            }
        return self._chain

    @property
    def chain_config(self) -> ChainConfig:
        return self.chain_settings["config"]

    # --- calls ---------------------------------------------------------------------------------
    def call_raw(self, method: str, params: list[Any]) -> dict[str, Any]:
        """The JSON-RPC envelope (``result`` or ``error``) of one call, after in-hook retries.

        Rate-limit errors inside a 200 pause the whole budget and are retried; an answer that is no
        envelope for this request (no ``result`` and no ``error``, another ``id``) raises
        ``UnexpectedResponseError`` (Airflow retries the task, nothing from it is stored)."""
        try:
            body = self.get_json(method, params)  # type: ignore[arg-type]
        except PolymarketApiError as err:
            raise PolymarketApiError(redact(str(err), self.url_from_endpoint("")), err.status) from None
        sent = getattr(self._local, "rpc_id", None)
        if not isinstance(body, dict) or ("result" not in body and "error" not in body) or body.get("id") != sent:
            raise UnexpectedResponseError(
                f"{method} to {self.safe_url}: the provider answered {str(body)[:200]!r}, not a JSON-RPC answer to "
                f"request id {sent}; nothing from it is stored. Retried by Airflow; if it persists, check the provider."
            )
        return body

    def _decode(self, response: requests.Response) -> Any:
        """A rate limit inside a 200 (code 429, or -32005 about the request rate) is a 429: the base
        hook's retry pauses the whole budget and asks again."""
        body = super()._decode(response)
        error = body.get("error") if isinstance(body, dict) else None
        if error is not None and is_rate_limit(error):
            self._count(responses_429=1)
            raise RetryableAnswerError(f"rate-limited by {self.safe_url} in a 200: {error_text(error)}", 429)
        return body

    def call(self, method: str, params: list[Any]) -> Any:
        """The result of one call; an error answer raises ``RpcError``."""
        body = self.call_raw(method, params)
        if "error" in body and body["error"] is not None:
            raise RpcError(method, body["error"])
        return body.get("result")

    def check_chain(self) -> None:
        """Fail before reading anything when the provider serves another chain."""
        served = hex_int(self.call("eth_chainId", []), "eth_chainId")
        if served != self.chain_config.chain_id:
            raise WrongChainError(
                f"the polygon_rpc host {self.safe_url} serves chain {served}, not {self.chain_config.chain_id}. "
                "Point the connection at a Polygon (137) endpoint."
            )

    def block_header(self, block: int | str) -> dict[str, Any] | None:
        """``eth_getBlockByNumber`` without transactions (``block``: a number or a tag)."""
        tag = hex(block) if isinstance(block, int) else block
        result = self.call("eth_getBlockByNumber", [tag, False])
        if result is not None and not isinstance(result, dict):
            raise UnexpectedResponseError(f"eth_getBlockByNumber {tag}: the provider answered {str(result)[:200]!r}")
        return result

    def block_timestamp(self, block: int) -> int:
        """A block's timestamp; the provider must have it (only blocks at or below the finalized one are asked)."""
        header = self.block_header(block)
        if header is None:
            raise MissingBlockError(
                f"the provider {self.safe_url} has no block {block}, at or below the finalized block: it may prune "
                "history. Use an archive endpoint for the polygon_rpc connection."
            )
        number = hex_int(header.get("number"), "number")
        if number != block:
            raise UnexpectedResponseError(f"eth_getBlockByNumber {block}: the provider answered block {number}")
        return hex_int(header.get("timestamp"), "timestamp")

    def finalized(self) -> tuple[int, int, str]:
        """(block, timestamp, how) of the newest block safe from reorgs: the ``finalized`` tag, or the head
        minus ``finality_depth`` where the provider does not know the tag."""
        try:
            header = self.block_header("finalized")
        except RpcError as err:
            header, why = None, str(err)
        else:
            why = "it answered null"
        if header is not None:
            number = hex_int(header.get("number"), "number")
            return number, hex_int(header.get("timestamp"), "timestamp"), "finalized tag"
        depth = self.chain_settings["finality_depth"]
        head = hex_int(self.call("eth_blockNumber", []), "eth_blockNumber")
        number = max(0, head - depth)
        self.log.warning(
            "%s does not serve the finalized tag (%s); reading up to head %d minus finality_depth %d = block %d",
            self.safe_url, why, head, depth, number,
        )  # fmt: skip
        return number, self.block_timestamp(number), f"head {head} - {depth}"
