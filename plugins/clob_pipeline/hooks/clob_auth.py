"""Polymarket CLOB L2 authentication: an HMAC-SHA256 signature per request.

Algorithm (py-clob-client ``signing/hmac.py``, clob-client ``signing/hmac.ts``):
``message = timestamp + METHOD + request_path + body``, where the path excludes the query
string; key = URL-safe base64 decode of the API secret; signature = URL-safe base64 of the
HMAC digest with ``=`` padding kept. The CLOB never accepts a Bearer token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Callable
from urllib.parse import urlsplit

from requests import PreparedRequest
from requests.auth import AuthBase

L2_HEADERS = ("POLY_ADDRESS", "POLY_SIGNATURE", "POLY_TIMESTAMP", "POLY_API_KEY", "POLY_PASSPHRASE")


def build_hmac_signature(secret: str, timestamp: int | str, method: str, request_path: str, body: str | None = None) -> str:
    """Return the L2 ``POLY_SIGNATURE`` for one request."""
    message = f"{timestamp}{method}{request_path}"
    if body:
        message += body.replace("'", '"')  # as the official Python client does
    key = base64.urlsafe_b64decode(secret)
    digest = hmac.new(key, message.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode()


class ClobL2Auth(AuthBase):
    """``requests`` auth that signs every request (so every page and every retry is re-signed)."""

    def __init__(
        self,
        address: str,
        secret: str,
        api_key: str,
        passphrase: str,
        clock: Callable[[], float] = time.time,
    ) -> None:
        missing = [
            name
            for name, value in (
                ("login (address)", address),
                ("password (secret)", secret),
                ("extra.api_key", api_key),
                ("extra.api_passphrase", passphrase),
            )
            if not value
        ]
        if missing:
            raise ValueError(
                f"polymarket_clob connection lacks {', '.join(missing)}; the CLOB trades endpoint needs "
                "L2 credentials. Set AIRFLOW_CONN_POLYMARKET_CLOB or use source=data_api."
            )
        self.address, self._secret, self.api_key, self._passphrase = address, secret, api_key, passphrase
        self._clock = clock

    def __call__(self, request: PreparedRequest) -> PreparedRequest:
        timestamp = int(self._clock())
        path = urlsplit(request.url or "").path
        body = request.body.decode() if isinstance(request.body, bytes) else request.body
        request.headers.update(
            {
                "POLY_ADDRESS": self.address,
                "POLY_SIGNATURE": build_hmac_signature(self._secret, timestamp, request.method or "GET", path, body),
                "POLY_TIMESTAMP": str(timestamp),
                "POLY_API_KEY": self.api_key,
                "POLY_PASSPHRASE": self._passphrase,
            }
        )
        return request
