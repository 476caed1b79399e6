"""Hooks for the Polymarket HTTP APIs, built on the HTTP provider's ``HttpHook``.

Base URLs, credentials and tuning come from Airflow Connections, so the same code runs against
the real hosts or the local emulator:

- ``polymarket_data_api`` -- public Data API (no key). ``/trades`` is the default fill source.
- ``polymarket_clob``     -- CLOB ``/data/trades`` with L2 HMAC headers: login = signer address,
  password = API secret, extra ``api_key`` and ``api_passphrase``.
- ``polymarket_gamma``    -- Gamma ``/public-profile`` for proxy-wallet lookups.

Connection extras read by these hooks (never sent as headers): ``rate_limit_requests`` and
``rate_limit_period_s`` (the budget per endpoint, default the published one), ``rate_limit_shared``
(default true: one budget for every process of the host, kept in ``rate_limit_dir``),
``rate_limit_dir`` (default ``$CLOB_PIPELINE_RATE_LIMIT_DIR`` or ``<tmp>/clob-pipeline-rate-limits``),
``rate_limit_split`` (default 1: this host or process uses budget / split), ``max_in_flight``
(concurrent requests a task may have, read by the fetch driver's caller), ``page_size``,
``max_attempts``, ``backoff_base_s``, ``backoff_cap_s``, ``max_retry_after_s``, ``timeout_s``.

Why one session per thread: ``HttpHook.run`` builds a new session (and looks the connection up
again) for every request; paging thousands of pages wants keep-alive sessions, so the hooks build
one per thread with ``HttpHook.get_conn`` (a ``requests.Session`` is not thread-safe) and send
through ``HttpHook.run_and_check``. The limiter, the settings and the stats are shared by the
threads (locks inside).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
import time
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import requests
from airflow.providers.http.hooks.http import HttpHook
from requests_toolbelt.adapters.socket_options import SocketOptionsAdapter

from clob_pipeline.config import CLOB_CONN_ID, DATA_API_CONN_ID, GAMMA_CONN_ID
from clob_pipeline.hooks.clob_auth import ClobL2Auth
from clob_pipeline.hooks.throttle import (
    FileSlotStore,
    MemorySlotStore,
    SlotLimiter,
    backoff_delay,
    parse_retry_after,
)

_CONFIG_EXTRAS = frozenset(
    {
        "rate_limit_requests",
        "rate_limit_period_s",
        "rate_limit_shared",
        "rate_limit_dir",
        "rate_limit_split",
        "max_in_flight",
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


RATE_LIMIT_DIR_ENV = "CLOB_PIPELINE_RATE_LIMIT_DIR"


@dataclass
class RequestStats:
    """Counters of one hook (all threads) or of one thread (``PolymarketHook.thread_stats``)."""

    requests: int = 0
    retries: int = 0
    throttled_s: float = 0.0  # waiting for the limiter (summed over threads), 429 pauses included
    responses_429: int = 0

    def add(self, other: RequestStats) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))


def _flag(value: Any) -> bool:
    return str(value).strip().lower() not in ("false", "0", "no", "off", "")


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
        self._settings: dict[str, Any] = {}
        self._limiters: dict[str, SlotLimiter] = {}
        self._sessions: list[requests.Session] = []
        self._local = threading.local()  # this thread's session and stats
        self._lock = threading.Lock()  # settings, limiters, sessions list, stats
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

    def _configure_session_from_mount_adapters(self, session: requests.Session) -> requests.Session:
        """A keep-alive adapter (connection pool) per session, i.e. per thread.

        ``HttpHook`` mounts its one adapter on every session it builds; with threads they would
        share its pool of 10 connections and discard the 11th+ ("Connection pool is full").
        """
        if self.adapter is None and self.keep_alive_adapter is not None:
            adapter = SocketOptionsAdapter(socket_options=self.keep_alive_adapter.socket_options)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            return session
        return super()._configure_session_from_mount_adapters(session)

    def _setup(self) -> requests.Session:
        """This thread's session; the first call of the hook also reads the connection's settings."""
        session = getattr(self._local, "session", None)
        if session is not None:
            return session
        with self._lock:
            if not self._settings:
                extra = self.get_connection(self.http_conn_id).extra_dejson
                requests_per, period = self.default_rate_limit
                split = max(1, int(extra.get("rate_limit_split", 1)))
                default_dir = os.environ.get(RATE_LIMIT_DIR_ENV) or Path(tempfile.gettempdir()) / "clob-pipeline-rate-limits"
                self._settings = {
                    "page_size": int(extra.get("page_size", self.default_page_size)),
                    "max_attempts": int(extra.get("max_attempts", 5)),
                    "backoff_base_s": float(extra.get("backoff_base_s", 1.0)),
                    "backoff_cap_s": float(extra.get("backoff_cap_s", 30.0)),
                    "max_retry_after_s": float(extra.get("max_retry_after_s", 60.0)),
                    "timeout_s": float(extra.get("timeout_s", 30.0)),
                    "max_in_flight": max(1, int(extra.get("max_in_flight", 16))),
                    "rate_limit_requests": max(1, int(extra.get("rate_limit_requests", requests_per)) // split),
                    "rate_limit_period_s": float(extra.get("rate_limit_period_s", period)),
                    "rate_limit_dir": Path(extra.get("rate_limit_dir") or default_dir)
                    if _flag(extra.get("rate_limit_shared", True))
                    else None,
                }
            session = self._local.session = self.get_conn()
            self._sessions.append(session)
        return session

    def _limiter(self, endpoint: str) -> SlotLimiter:
        """One budget per host and endpoint, shared by every process of this host unless ``rate_limit_shared`` is false."""
        self._setup()
        with self._lock:
            limiter = self._limiters.get(endpoint)
            if limiter is None:
                folder = self._settings["rate_limit_dir"]
                key = hashlib.sha256(f"{self.base_url.rstrip('/')}{endpoint}".encode()).hexdigest()[:20]
                store = FileSlotStore(folder / f"{key}.json") if folder is not None else MemorySlotStore()
                limiter = self._limiters[endpoint] = SlotLimiter(
                    self._settings["rate_limit_requests"],
                    self._settings["rate_limit_period_s"],
                    store,
                    hold_s=self._settings["timeout_s"] + 5.0,
                )
            return limiter

    @property
    def page_size(self) -> int:
        self._setup()
        return self._settings["page_size"]

    def served_page_size(self) -> int:
        """Rows per page the endpoint serves, where that decides the end of data; 0 = not known
        (the CLOB's cursor marks its end)."""
        return 0

    @property
    def max_in_flight(self) -> int:
        """Requests a task may have in flight at once (extra ``max_in_flight``, default 16)."""
        self._setup()
        return self._settings["max_in_flight"]

    @property
    def budget_per_s(self) -> float:
        """Requests per second this hook may send to one endpoint (after ``rate_limit_split``)."""
        self._setup()
        return self._settings["rate_limit_requests"] / self._settings["rate_limit_period_s"]

    @property
    def thread_stats(self) -> RequestStats:
        """The calling thread's counters (per-wallet numbers for a driver running wallets on threads)."""
        stats = getattr(self._local, "stats", None)
        if stats is None:
            stats = self._local.stats = RequestStats()
        return stats

    def _count(self, **deltas: float) -> None:
        delta = RequestStats(**deltas)
        self.thread_stats.add(delta)
        with self._lock:
            self.stats.add(delta)

    def close(self) -> None:
        with self._lock:
            for session in self._sessions:
                session.close()
            self._sessions.clear()
            self._local = threading.local()

    # --- requests ----------------------------------------------------------------------------
    def _request(self, endpoint: str, url: str, params: dict[str, Any]) -> requests.Request:
        """One attempt's request: a GET with query parameters (the JSON-RPC hook POSTs a body instead)."""
        return requests.Request("GET", url, params=params)

    def get_json(self, endpoint: str, params: dict[str, Any], *, allow_404: bool = False) -> Any:
        """GET ``endpoint`` and decode JSON, retrying 429 (Retry-After), 5xx, timeouts and bad JSON.

        Safe to call from several threads at once. Every attempt takes a slot of the endpoint's
        shared budget first; a 429 pauses the whole budget (every thread and process) for its
        ``Retry-After`` (or the backoff delay when it has none).
        """
        session = self._setup()
        settings = self._settings
        limiter = self._limiter(endpoint)
        url = self.url_from_endpoint(endpoint)
        last_problem = ""
        for attempt in range(1, settings["max_attempts"] + 1):
            ticket = limiter.acquire()
            self._count(requests=1, throttled_s=ticket.waited_s)
            prepared = session.prepare_request(self._request(endpoint, url, params))
            delay = backoff_delay(attempt, settings["backoff_base_s"], settings["backoff_cap_s"])
            paused = False
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
                    self._count(responses_429=1)
                    hint = parse_retry_after(response.headers.get("Retry-After"))
                    if hint is not None and hint > settings["max_retry_after_s"]:
                        raise PolymarketApiError(
                            f"GET {endpoint} {params}: HTTP 429 with Retry-After {hint:.0f}s, above "
                            f"max_retry_after_s={settings['max_retry_after_s']:.0f}s. The API is throttling "
                            "this client; lower rate_limit_requests on the connection or retry later.",
                            429,
                        )
                    delay = hint if hint is not None else delay
                    limiter.pause(delay)  # every request sharing the budget waits, not just this one
                    paused = True
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
            finally:
                limiter.release(ticket)
            if attempt == settings["max_attempts"]:
                break
            self._count(retries=1)
            self.log.warning(
                "GET %s attempt %d/%d failed (%s); retrying in %.1fs%s",
                endpoint,
                attempt,
                settings["max_attempts"],
                last_problem,
                delay,
                " (all requests to this endpoint paused)" if paused else "",
            )
            if not paused:  # a 429's pause is waited for in the limiter
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
