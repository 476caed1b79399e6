"""Hooks for the Polymarket HTTP APIs, built on the HTTP provider's ``HttpHook``.

Base URLs, credentials and tuning come from Airflow Connections, so the same code runs against
the real hosts or the local emulator:

- ``polymarket_data_api`` -- public Data API (no key). ``/trades`` is the default fill source.
- ``polymarket_clob``     -- CLOB ``/data/trades`` with L2 HMAC headers: login = signer address,
  password = API secret, extra ``api_key`` and ``api_passphrase``.
- ``polymarket_gamma``    -- Gamma ``/public-profile`` for proxy-wallet lookups.

Connection extras read by these hooks (never sent as headers): ``rate_limit_requests`` and
``rate_limit_period_s`` (client-side limit, default the published one), ``page_size``,
``max_attempts``, ``backoff_base_s``, ``backoff_cap_s``, ``max_retry_after_s``, ``timeout_s``.

Why one session per hook: ``HttpHook.run`` builds a new session (and looks the connection up
again) for every request; paging thousands of pages wants one keep-alive session, so the hooks
build it once with ``HttpHook.get_conn`` and send through ``HttpHook.run_and_check``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import requests
from airflow.providers.http.hooks.http import HttpHook

from clob_pipeline.config import CLOB_CONN_ID, DATA_API_CONN_ID, GAMMA_CONN_ID
from clob_pipeline.hooks.clob_auth import ClobL2Auth
from clob_pipeline.hooks.throttle import SlidingWindowLimiter, backoff_delay, parse_retry_after

_CONFIG_EXTRAS = frozenset(
    {
        "rate_limit_requests",
        "rate_limit_period_s",
        "page_size",
        "max_attempts",
        "backoff_base_s",
        "backoff_cap_s",
        "max_retry_after_s",
        "timeout_s",
        "api_key",
        "api_passphrase",
    }
)


class PolymarketApiError(RuntimeError):
    """A Polymarket request failed for good (after in-hook retries, or with a non-retryable status)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status

    @property
    def retryable(self) -> bool:
        """False for a 4xx other than 429 (bad request, credentials, not found): the task fails without
        an Airflow retry (``clob_pipeline.errors``). 429, 5xx and network errors (no status) stay retryable."""
        return self.status is None or self.status == 429 or self.status >= 500


@dataclass
class RequestStats:
    requests: int = 0
    retries: int = 0
    throttled_s: float = 0.0


class PolymarketHook(HttpHook):
    """GET JSON from one Polymarket API with rate limiting, 429 handling and backoff on 5xx."""

    conn_name_attr = "polymarket_conn_id"
    default_conn_name = DATA_API_CONN_ID
    conn_type = "http"
    hook_name = "Polymarket API"
    default_rate_limit: tuple[int, float] = (1000, 10.0)
    default_page_size = 1000

    def __init__(self, polymarket_conn_id: str | None = None) -> None:
        super().__init__(method="GET", http_conn_id=polymarket_conn_id or self.default_conn_name)
        self._session: requests.Session | None = None
        self._limiter: SlidingWindowLimiter | None = None
        self._settings: dict[str, Any] = {}
        self.stats = RequestStats()

    # --- connection plumbing -----------------------------------------------------------------
    def get_conn(self, headers: dict[Any, Any] | None = None, extra_options: dict[str, Any] | None = None) -> requests.Session:
        session = super().get_conn(headers, extra_options)
        for key in _CONFIG_EXTRAS:  # HttpHook copies every extra into the headers; ours are settings
            session.headers.pop(key, None)
        return session

    def _extract_auth(self, connection: Any) -> Any | None:
        """Public APIs: never send Basic auth even if a login is set on the connection."""
        return None

    def _setup(self) -> requests.Session:
        if self._session is None:
            extra = self.get_connection(self.http_conn_id).extra_dejson
            requests_per, period = self.default_rate_limit
            self._settings = {
                "page_size": int(extra.get("page_size", self.default_page_size)),
                "max_attempts": int(extra.get("max_attempts", 5)),
                "backoff_base_s": float(extra.get("backoff_base_s", 1.0)),
                "backoff_cap_s": float(extra.get("backoff_cap_s", 30.0)),
                "max_retry_after_s": float(extra.get("max_retry_after_s", 60.0)),
                "timeout_s": float(extra.get("timeout_s", 30.0)),
            }
            self._limiter = SlidingWindowLimiter(
                int(extra.get("rate_limit_requests", requests_per)), float(extra.get("rate_limit_period_s", period))
            )
            self._session = self.get_conn()
        return self._session

    @property
    def page_size(self) -> int:
        self._setup()
        return self._settings["page_size"]

    def served_page_size(self) -> int:
        """Rows per page the endpoint serves, where that decides the end of data; 0 = not known
        (the CLOB's cursor marks its end)."""
        return 0

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None

    # --- requests ----------------------------------------------------------------------------
    def get_json(self, endpoint: str, params: dict[str, Any], *, allow_404: bool = False) -> Any:
        """GET ``endpoint`` and decode JSON, retrying 429 (Retry-After), 5xx, timeouts and bad JSON."""
        session = self._setup()
        settings = self._settings
        assert self._limiter is not None
        url = self.url_from_endpoint(endpoint)
        last_problem = ""
        for attempt in range(1, settings["max_attempts"] + 1):
            before = self._limiter.waited_s
            self._limiter.acquire()
            self.stats.throttled_s += self._limiter.waited_s - before
            prepared = session.prepare_request(requests.Request("GET", url, params=params))
            self.stats.requests += 1
            delay = backoff_delay(attempt, settings["backoff_base_s"], settings["backoff_cap_s"])
            try:
                response = self.run_and_check(session, prepared, {"timeout": settings["timeout_s"], "check_response": False})
            except (requests.ConnectionError, requests.Timeout) as ex:
                last_problem = f"{type(ex).__name__}: {ex}"
            else:
                status = response.status_code
                if status == 200:
                    try:
                        return response.json()
                    except ValueError:
                        last_problem = f"HTTP 200 with malformed JSON ({response.text[:120]!r})"
                elif status == 404 and allow_404:
                    return None
                elif status == 429:
                    hint = parse_retry_after(response.headers.get("Retry-After"))
                    if hint is not None and hint > settings["max_retry_after_s"]:
                        raise PolymarketApiError(
                            f"GET {endpoint} {params}: HTTP 429 with Retry-After {hint:.0f}s, above "
                            f"max_retry_after_s={settings['max_retry_after_s']:.0f}s. The API is throttling "
                            "this client; lower rate_limit_requests on the connection or retry later.",
                            429,
                        )
                    delay = hint if hint is not None else delay
                    last_problem = f"HTTP 429 (Retry-After {response.headers.get('Retry-After')!r})"
                elif status >= 500:
                    last_problem = f"HTTP {status} {response.text[:200]!r}"
                else:
                    raise PolymarketApiError(
                        f"GET {endpoint} {params}: HTTP {status} {response.text[:300]!r}. Not retryable: "
                        + (
                            "check the connection's credentials (login, password, extra.api_key/api_passphrase)."
                            if status in (401, 403)
                            else "check the request parameters and the API contract."
                        ),
                        status,
                    )
            if attempt == settings["max_attempts"]:
                break
            self.stats.retries += 1
            self.log.warning(
                "GET %s attempt %d/%d failed (%s); retrying in %.1fs",
                endpoint,
                attempt,
                settings["max_attempts"],
                last_problem,
                delay,
            )
            time.sleep(delay)
        raise PolymarketApiError(
            f"GET {endpoint} {params} failed {settings['max_attempts']} times; last: {last_problem}. "
            "The task will be retried by Airflow; if it keeps failing check the API status and the "
            f"{self.http_conn_id} connection's host."
        )


class PolymarketDataApiHook(PolymarketHook):
    """Public Data API: any wallet's trades, maker and taker (``takerOnly=false``); paged by
    ``fills/pagers.DataApiPager``."""

    default_conn_name = DATA_API_CONN_ID
    hook_name = "Polymarket Data API"
    default_rate_limit = (200, 10.0)  # published limit for /trades
    _served_page_size: int | None = None

    def served_page_size(self) -> int:
        """Rows per page the API really serves for ``limit=page_size`` (0 = unknown), learned once
        per hook from one market-wide ``/trades`` page, which always has more rows than a page.

        Why: ``limit`` may be clamped (older docs and users report 500), so a page shorter than
        asked is not the end of data; a page shorter than what the server serves is.
        """
        if self._served_page_size is None:
            try:
                rows = self.get_json("/trades", {"limit": self.page_size, "offset": 0, "takerOnly": "false"})
            except PolymarketApiError as exc:
                self.log.warning("could not learn the served page size (%s); every page counts as full", exc)
                rows = None
            self._served_page_size = len(rows) if isinstance(rows, list) else 0
            self.log.info("Data API serves %s rows per page for limit=%d", self._served_page_size or "unknown", self.page_size)
        return self._served_page_size


class PolymarketClobHook(PolymarketHook):
    """CLOB ``/data/trades``: the key owner's trades, signed with L2 HMAC headers; paged by
    ``fills/pagers.ClobPager``."""

    default_conn_name = CLOB_CONN_ID
    hook_name = "Polymarket CLOB"
    default_rate_limit = (500, 10.0)  # published limit for /data/trades

    def _extract_auth(self, connection: Any) -> ClobL2Auth:
        extra = connection.extra_dejson
        return ClobL2Auth(
            address=connection.login or "",
            secret=connection.password or "",
            api_key=extra.get("api_key", ""),
            passphrase=extra.get("api_passphrase", ""),
        )


class PolymarketGammaHook(PolymarketHook):
    """Gamma API: ``/public-profile`` maps an address to its proxy wallet (404 = no profile)."""

    default_conn_name = GAMMA_CONN_ID
    hook_name = "Polymarket Gamma"
    default_rate_limit = (4000, 10.0)

    def get_public_profile(self, address: str) -> dict[str, Any] | None:
        body = self.get_json("/public-profile", {"address": address}, allow_404=True)
        if body is not None and not isinstance(body, dict):
            raise PolymarketApiError(f"GET /public-profile {address}: expected a JSON object, got {str(body)[:200]}")
        return body
