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
import json
import os
import tempfile
import threading
import time
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import requests
import tenacity
from airflow.providers.http.hooks.http import HttpHook
from requests_toolbelt.adapters.socket_options import TCPKeepAliveAdapter

from clob_pipeline.config import CLOB_CONN_ID, DATA_API_CONN_ID, GAMMA_CONN_ID
from clob_pipeline.hooks.clob_auth import ClobL2Auth
from clob_pipeline.hooks.throttle import FileSlotStore, MemorySlotStore, SlotLimiter, parse_retry_after

_CONFIG_EXTRAS = frozenset(
    {
        "rate_limit_requests",
        "rate_limit_period_s",
        "rate_limit_shared",
        "rate_limit_dir",
        "rate_limit_split",
        "rate_limits",
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
    """A Polymarket request failed for good (after in-hook retries, or with a non-retryable status).

    ``parameter``: the request parameter the API named as bad (Data API v2's error body
    ``{error, code, retryable, trace_id, parameter}``), e.g. ``cursor``; None when it named none."""

    def __init__(self, message: str, status: int | None = None, parameter: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.parameter = parameter

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


class RetryableAnswerError(Exception):
    """One attempt failed in a way another attempt may not (429, 5xx, network, bad JSON)."""

    def __init__(self, problem: str, status: int | None = None, retry_after: float | None = None) -> None:
        super().__init__(problem)
        self.status, self.retry_after = status, retry_after


def _no_auth(*_: Any) -> None:
    """``HttpHook.auth_type`` for the public APIs: no auth object, whatever the connection holds."""
    return None


def _named_parameter(response: requests.Response) -> str | None:
    """The ``parameter`` an error body names (Data API v2), if any."""
    try:
        body = response.json()
    except ValueError:
        return None
    parameter = body.get("parameter") if isinstance(body, dict) else None
    return str(parameter) if parameter else None


def _endpoint_budgets(value: Any) -> dict[str, tuple[int, float]]:
    """The ``rate_limits`` extra: ``{"/v2/trades": [200, 10]}`` -> that endpoint's own budget."""
    if not value:
        return {}
    if isinstance(value, str):
        value = json.loads(value)
    try:
        return {str(k): (int(v[0]), float(v[1])) for k, v in dict(value).items()}
    except (TypeError, ValueError, IndexError, KeyError) as err:
        raise ValueError(f"connection extra rate_limits must map an endpoint to [requests, period_s]; got {value!r}") from err


def _flag(value: Any) -> bool:
    return str(value).strip().lower() not in ("false", "0", "no", "off", "")


class PolymarketHook(HttpHook):
    """GET JSON from one Polymarket API with rate limiting, 429 handling and backoff on 5xx."""

    conn_name_attr = "polymarket_conn_id"
    default_conn_name = DATA_API_CONN_ID
    conn_type = "http"
    hook_name = "Polymarket API"
    default_rate_limit: tuple[int, float] = (1000, 10.0)
    budget_of: dict[str, str] = {}  # endpoint -> the endpoint whose budget it shares (see ``_limiter``)
    default_page_size = 1000

    def __init__(self, polymarket_conn_id: str | None = None) -> None:
        # ``auth_type`` (HttpHook's public way to choose the auth): the public APIs never send Basic
        # auth, whatever login the connection holds; the CLOB hook signs in ``get_conn``.
        super().__init__(
            method="GET", http_conn_id=polymarket_conn_id or self.default_conn_name, auth_type=_no_auth, tcp_keep_alive=False
        )
        self._sleep = time.sleep  # tenacity's wait between attempts (tests record it instead)
        self._settings: dict[str, Any] = {}
        self._limiters: dict[str, SlotLimiter] = {}
        self._sessions: list[requests.Session] = []
        self._local = threading.local()  # this thread's session and stats
        self._lock = threading.Lock()  # settings, limiters, sessions list, stats
        self.stats = RequestStats()

    # --- connection plumbing -----------------------------------------------------------------
    def get_conn(self, headers: dict[Any, Any] | None = None, extra_options: dict[str, Any] | None = None) -> requests.Session:
        """``HttpHook``'s session with the hook's settings taken out of its headers and a keep-alive
        connection pool of its own.

        Why a pool per session (one session per thread): ``HttpHook`` mounts its one adapter on every
        session it builds, so threads would share its pool of 10 connections and discard the 11th+
        ("Connection pool is full"); the hook is built with ``tcp_keep_alive=False`` and mounts a fresh
        ``TCPKeepAliveAdapter`` here (``requests``' public ``Session.mount``)."""
        session = super().get_conn(headers, extra_options)
        for key in _CONFIG_EXTRAS:  # HttpHook copies every extra into the headers; ours are settings
            session.headers.pop(key, None)
        adapter = TCPKeepAliveAdapter(idle=120, count=20, interval=30)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        return session

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
                    "rate_limit_requests": int(extra.get("rate_limit_requests", requests_per)),
                    "rate_limit_period_s": float(extra.get("rate_limit_period_s", period)),
                    "rate_limit_split": split,
                    "rate_limits": _endpoint_budgets(extra.get("rate_limits")),
                    "rate_limit_dir": Path(extra.get("rate_limit_dir") or default_dir)
                    if _flag(extra.get("rate_limit_shared", True))
                    else None,
                }
            session = self._local.session = self.get_conn()
            self._sessions.append(session)
        return session

    def _limiter(self, endpoint: str) -> SlotLimiter:
        """One budget per host and endpoint, shared by every process of this host unless ``rate_limit_shared`` is false.

        An endpoint in ``budget_of`` draws from another endpoint's budget (Data API ``/v2/trades`` from
        ``/trades``: the rate-limit page lists no v2 row) unless the connection's ``rate_limits`` extra
        gives it one of its own: ``{"/v2/trades": [requests, period_s]}``.
        """
        self._setup()
        own = self._settings["rate_limits"].get(endpoint)
        bucket = endpoint if own else self.budget_of.get(endpoint, endpoint)
        with self._lock:
            limiter = self._limiters.get(bucket)
            if limiter is None:
                requests_per, period = own or (self._settings["rate_limit_requests"], self._settings["rate_limit_period_s"])
                folder = self._settings["rate_limit_dir"]
                key = hashlib.sha256(f"{self.base_url.rstrip('/')}{bucket}".encode()).hexdigest()[:20]
                store = FileSlotStore(folder / f"{key}.json") if folder is not None else MemorySlotStore()
                limiter = self._limiters[bucket] = SlotLimiter(
                    max(1, int(requests_per) // self._settings["rate_limit_split"]),
                    float(period),
                    store,
                    hold_s=self._settings["timeout_s"] + 5.0,
                )
            return limiter

    @property
    def page_size(self) -> int:
        self._setup()
        return self._settings["page_size"]

    @property
    def max_in_flight(self) -> int:
        """Requests a task may have in flight at once (extra ``max_in_flight``, default 16)."""
        self._setup()
        return self._settings["max_in_flight"]

    @property
    def budget_per_s(self) -> float:
        """Requests per second this hook may send to one endpoint (after ``rate_limit_split``)."""
        self._setup()
        settings = self._settings
        return max(1, settings["rate_limit_requests"] // settings["rate_limit_split"]) / settings["rate_limit_period_s"]

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
        """GET ``endpoint`` and decode JSON, retrying 429, 5xx, timeouts and bad JSON (tenacity).

        Safe to call from several threads at once. Every attempt takes a slot of the endpoint's shared
        budget first. Between attempts (:meth:`_wait`): a 429 pauses the whole budget (every thread and
        process) for its ``Retry-After``, or a jittered backoff when it has none; a 503's
        ``Retry-After`` is waited for; anything else waits a jittered exponential backoff.
        """
        self._setup()
        attempts = self._settings["max_attempts"]
        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(attempts),
            wait=lambda state: self._wait(endpoint, state),
            retry=tenacity.retry_if_exception_type(RetryableAnswerError),
            before_sleep=lambda state: self._note_retry(endpoint, attempts, state),
            sleep=lambda seconds: self._sleep(seconds),
            reraise=True,
        )
        try:
            return retrying(self._attempt, endpoint, params, allow_404)
        except RetryableAnswerError as last:
            raise PolymarketApiError(
                f"{self.method} {endpoint} {params} failed {attempts} times; last: {last}. The task will be retried by "
                f"Airflow; if it keeps failing check the API status and the {self.http_conn_id} connection's host."
            ) from None

    def _attempt(self, endpoint: str, params: dict[str, Any], allow_404: bool) -> Any:
        """One request: the decoded body, or ``RetryableAnswerError``, or ``PolymarketApiError`` (final)."""
        session, settings, limiter = self._setup(), self._settings, self._limiter(endpoint)
        ticket = limiter.acquire()
        self._count(requests=1, throttled_s=ticket.waited_s)
        prepared = session.prepare_request(self._request(endpoint, self.url_from_endpoint(endpoint), params))
        try:
            response = self.run_and_check(session, prepared, {"timeout": settings["timeout_s"], "check_response": False})
        except (requests.ConnectionError, requests.Timeout) as ex:
            raise RetryableAnswerError(f"{type(ex).__name__}: {ex}") from ex
        finally:
            limiter.release(ticket)
        status = response.status_code
        if status == 200:
            return self._decode(response)
        if status == 404 and allow_404:
            return None
        if status == 429 or status >= 500:
            if status == 429:
                self._count(responses_429=1)
            hint = parse_retry_after(response.headers.get("Retry-After"))
            if hint is not None and hint > settings["max_retry_after_s"]:
                raise PolymarketApiError(
                    f"{self.method} {endpoint} {params}: HTTP {status} with Retry-After {hint:.0f}s, above "
                    f"max_retry_after_s={settings['max_retry_after_s']:.0f}s. The API is throttling or down for this "
                    "client; lower rate_limit_requests on the connection or retry later.",
                    status,
                )
            raise RetryableAnswerError(f"HTTP {status} {response.text[:200]!r}", status, hint)
        raise PolymarketApiError(
            f"{self.method} {endpoint} {params}: HTTP {status} {response.text[:300]!r}. Not retryable: "
            + (
                "check the connection's credentials (login, password, extra.api_key/api_passphrase)."
                if status in (401, 403)
                else "check the request parameters and the API contract."
            ),
            status,
            _named_parameter(response),
        )

    def _decode(self, response: requests.Response) -> Any:
        """A 200's JSON body; one that is not JSON is retried. (The JSON-RPC hook also turns a rate limit
        sent inside a 200 into a retried 429 here.)"""
        try:
            return response.json()
        except ValueError:
            raise RetryableAnswerError(f"HTTP 200 with malformed JSON ({response.text[:120]!r})") from None

    def _wait(self, endpoint: str, state: tenacity.RetryCallState) -> float:
        """Seconds to sleep before the next attempt. A 429 pauses the endpoint's shared budget instead
        (every request of every process waits there) and sleeps 0 here."""
        answer = state.outcome.exception() if state.outcome else None
        settings = self._settings
        jitter = tenacity.wait_exponential_jitter(
            initial=settings["backoff_base_s"], max=settings["backoff_cap_s"], jitter=settings["backoff_base_s"]
        )(state)
        hint = answer.retry_after if isinstance(answer, RetryableAnswerError) else None
        delay = hint if hint is not None else jitter
        if isinstance(answer, RetryableAnswerError) and answer.status == 429:
            self._limiter(endpoint).pause(delay)
            return 0.0
        return delay

    def _note_retry(self, endpoint: str, attempts: int, state: tenacity.RetryCallState) -> None:
        self._count(retries=1)
        answer = state.outcome.exception() if state.outcome else None
        paused = isinstance(answer, RetryableAnswerError) and answer.status == 429
        self.log.warning(
            "%s %s attempt %d/%d failed (%s); retrying%s",
            self.method,
            endpoint,
            state.attempt_number,
            attempts,
            answer,
            " when the endpoint's budget is no longer paused" if paused else f" in {state.upcoming_sleep:.1f}s",
        )


class PolymarketDataApiHook(PolymarketHook):
    """Public Data API: any wallet's trades, maker and taker; v1 ``/trades`` (``fills/pagers.DataApiPager``)
    and v2 ``/v2/trades`` (``fills/pagers.DataApiV2Pager``), which share the ``/trades`` budget."""

    default_conn_name = DATA_API_CONN_ID
    hook_name = "Polymarket Data API"
    default_rate_limit = (200, 10.0)  # published limit for /trades
    budget_of = {"/v2/trades": "/trades"}  # no v2 row on the rate-limit page: the /trades budget

    def has_trades(self, address: str) -> bool:
        """Whether ``address`` has any fill on the Data API v2 (one row, all history). A row of another
        wallet (the user filter dropped) raises ``ForeignRowsError``: it proves nothing about ``address``."""
        from clob_pipeline.fills.pagers import check_owner

        body = self.get_json("/v2/trades", {"user": address, "taker_only": "false", "start": 1, "limit": 1})
        rows = body.get("data") if isinstance(body, dict) else None
        if not isinstance(rows, list):
            raise PolymarketApiError(f"GET /v2/trades for {address}: expected {{data, pagination}}, got {str(body)[:200]}")
        check_owner(address, rows, "proxy_wallet", "/v2/trades")
        return bool(rows)


class PolymarketClobHook(PolymarketHook):
    """CLOB ``/data/trades``: the key owner's trades, signed with L2 HMAC headers; paged by
    ``fills/pagers.ClobPager``."""

    default_conn_name = CLOB_CONN_ID
    hook_name = "Polymarket CLOB"
    default_rate_limit = (500, 10.0)  # published limit for /data/trades

    def get_conn(self, headers: dict[Any, Any] | None = None, extra_options: dict[str, Any] | None = None) -> requests.Session:
        """The session, signing every request with the connection's L2 key (never Basic, never Bearer)."""
        session = super().get_conn(headers, extra_options)
        connection = self.get_connection(self.http_conn_id)
        extra = connection.extra_dejson
        session.auth = ClobL2Auth(
            address=connection.login or "",
            secret=connection.password or "",
            api_key=extra.get("api_key", ""),
            passphrase=extra.get("api_passphrase", ""),
        )
        return session


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
