"""Run many wallets' pagers at once on threads and hand their pages to one consumer, in order per wallet.

Why: one wallet's requests are sequential (each depends on the previous response), so a task that
pages wallets one after the other sends one request per round trip: at 150 ms that is ~7 requests/s
where the Data API allows 20. Running ``max_in_flight`` wallets at once fills the budget; the
shared limiter inside the client (``PolymarketHook.get_json``) keeps it there.

Why threads and not asyncio: the work is a few dozen blocking HTTP calls in flight, the hook and
its retry/limiter logic are synchronous (``requests`` through Airflow's ``HttpHook``), and the
consumer (the ClickHouse writer, chDB in-process) is synchronous too. Threads reuse all of it; the
GIL is released while waiting on sockets and sleeps, which is all the workers do.

Contract (the consumer's view, see :meth:`FetchDriver.run`):

- each wallet's ``FetchedPage`` events come in the order its pager produced them, then exactly one
  ``WalletEnd`` for it (``error`` set when its pager or a request failed: the other wallets go on);
- every response must move its pager's ``progress()`` forward or end the walk
  (``fills.pagers.ProgressGuard``): a walk the API does not advance fails that wallet, never loops;
- at most ``max_in_flight`` requests are in flight, one per wallet;
- at most ``max_buffered`` pages wait for the consumer; a worker with another page blocks until
  there is room, so memory is bounded by ``max_in_flight + max_buffered`` pages.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from threading import Event
from typing import Any, NamedTuple, Protocol

from clob_pipeline.fills.pagers import ProgressGuard


class RequestLike(Protocol):
    """What a pager asks for (``fills.pagers.ApiRequest`` has these fields)."""

    endpoint: str
    params: dict[str, Any]


class PagerLike(Protocol):
    """A per-wallet state machine (``fills.pagers.Pager``): ``next_request`` (None = done), then ``feed``
    it the decoded body; ``progress()`` grows with every response that does not end the walk."""

    wallet: str
    done: bool

    def next_request(self) -> RequestLike | None: ...

    def feed(self, body: Any) -> Any: ...

    def rejected(self, error: BaseException) -> bool: ...

    def progress(self) -> tuple: ...

    def position(self) -> str: ...


class FetchClient(Protocol):
    """The hook. Optional, used for stats when present: ``stats`` and ``thread_stats`` with
    ``requests`` / ``throttled_s`` / ``responses_429`` / ``retries``, and ``budget_per_s``."""

    def get_json(self, endpoint: str, params: dict[str, Any]) -> Any: ...


class FetchedPage(NamedTuple):
    """What ``pager.feed`` returned for one response of ``wallet`` (the pager's ``Fed``)."""

    wallet: str
    fed: Any


class WalletEnd(NamedTuple):
    """A wallet is finished: its pager said done (``error`` None) or something raised (``error``)."""

    wallet: str
    requests: int  # calls to get_json (the hook's own retries not counted)
    pages: int  # FetchedPage events yielded before this
    fetch_s: float  # from the wallet's first request to its end
    limiter_wait_s: float  # of those, waiting for the rate limiter (0 when the client does not say)
    error: BaseException | None


@dataclass
class FetchStats:
    """Numbers for the task summary line; filled while :meth:`FetchDriver.run` runs."""

    wallets: int = 0
    wallets_failed: int = 0
    requests: int = 0
    pages: int = 0
    in_flight_peak: int = 0
    span_s: float = 0.0  # first request to last event
    limiter_wait_s: float = 0.0  # summed over threads
    backpressure_s: float = 0.0  # workers waiting for the consumer, summed over threads
    http_attempts: int = 0  # from the client's stats: requests including its retries
    responses_429: int = 0
    budget_per_s: float | None = None

    @property
    def requests_per_s(self) -> float:
        return self.http_attempts / self.span_s if self.span_s > 0 else 0.0

    def summary(self) -> str:
        budget = (
            f" = {self.requests_per_s / self.budget_per_s:.2f} of the budget {self.budget_per_s:g}/s"
            if self.budget_per_s
            else ""
        )
        return (
            f"fetched {self.wallets} wallets ({self.wallets_failed} failed): {self.requests} requests "
            f"({self.http_attempts} HTTP attempts, {self.responses_429} answered 429), {self.pages} pages in "
            f"{self.span_s:.1f}s, {self.requests_per_s:.1f} requests/s{budget}; in-flight peak {self.in_flight_peak}; "
            f"waited {self.limiter_wait_s:.1f}s for the rate limiter and {self.backpressure_s:.1f}s for the writer "
            "(summed over threads)"
        )



class FetchDriver:
    """Fetch for many wallets at once with threads; one consumer gets the results in wallet order."""

    def __init__(
        self,
        client: FetchClient,
        max_in_flight: int = 16,
        max_buffered: int = 8,
        budget_per_s: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_in_flight < 1 or max_buffered < 1:
            raise ValueError(f"max_in_flight and max_buffered must be >= 1; got {max_in_flight}, {max_buffered}")
        self.client, self.max_in_flight, self.max_buffered = client, max_in_flight, max_buffered
        self._clock = clock
        self._budget_per_s = budget_per_s
        self.stats = FetchStats()
        self._lock = threading.Lock()
        self._in_flight = 0

    def run(
        self, pagers: Mapping[str, PagerLike], prepare: Callable[[str, Any], Any] | None = None
    ) -> Iterator[FetchedPage | WalletEnd]:
        """Yield every wallet's pages in order, then its ``WalletEnd``; returns after the last wallet ends.

        ``prepare(wallet, fed)``, when given, runs on the fetching thread right after ``pager.feed`` and
        its result is what ``FetchedPage.fed`` carries: CPU work per page (normalising) then overlaps
        with the consumer's (storing) and with other wallets' requests. An error in it ends the wallet
        like a failed request.

        Call from the one consumer thread. Stopping early (``break``, an exception in the loop):
        close the generator (``contextlib.closing``; CPython does it when it is dropped); the
        workers then stop after their current request.
        """
        budget = self._budget_per_s if self._budget_per_s is not None else getattr(self.client, "budget_per_s", None)
        self.stats = FetchStats(wallets=len(pagers), budget_per_s=budget)
        before = self._client_totals()
        todo: queue.Queue[str] = queue.Queue()
        for wallet in pagers:
            todo.put(wallet)
        out: queue.Queue[Any] = queue.Queue(maxsize=self.max_buffered)
        stop = threading.Event()
        workers = [
            threading.Thread(target=self._work, args=(pagers, prepare, todo, out, stop), name=f"fetch-{i}", daemon=True)
            for i in range(min(self.max_in_flight, len(pagers)))
        ]
        started = self._clock()
        for worker in workers:
            worker.start()
        ended = 0
        try:
            while ended < len(pagers):
                event = out.get()
                if isinstance(event, WalletEnd):
                    ended += 1
                    self.stats.wallets_failed += event.error is not None
                else:
                    self.stats.pages += 1
                yield event
        finally:
            stop.set()
            for worker in workers:
                while worker.is_alive():  # let a worker blocked on a full queue see the stop
                    try:
                        out.get_nowait()
                    except queue.Empty:
                        pass
                    worker.join(0.05)
            self.stats.span_s = self._clock() - started
            after = self._client_totals()
            self.stats.http_attempts = int(after[0] - before[0]) if after else self.stats.requests
            if after:
                self.stats.limiter_wait_s = after[1] - before[1]
                self.stats.responses_429 = int(after[2] - before[2])

    # --- workers ------------------------------------------------------------------------------
    def _work(
        self, pagers: Mapping[str, PagerLike], prepare: Callable | None, todo: queue.Queue, out: queue.Queue, stop: Event
    ) -> None:
        while not stop.is_set():
            try:
                wallet = todo.get_nowait()
            except queue.Empty:
                return
            self._run_wallet(wallet, pagers[wallet], prepare, out, stop)

    def _run_wallet(self, wallet: str, pager: PagerLike, prepare: Callable | None, out: queue.Queue, stop: Event) -> None:
        requests = pages = 0
        error: BaseException | None = None
        started = self._clock()
        wait_before = self._thread_wait()
        try:
            guard = ProgressGuard(pager)  # type: ignore[arg-type]
            while not stop.is_set():
                request = pager.next_request()
                if request is None:
                    break
                requests += 1
                try:
                    body = self._get(request)
                except Exception as exc:
                    if not pager.rejected(exc):
                        raise
                    guard.check(request, f"{type(exc).__name__}: {exc}")  # type: ignore[arg-type]
                    continue
                fed = pager.feed(body)
                guard.check(request, body)  # type: ignore[arg-type]
                if not self._put(out, FetchedPage(wallet, prepare(wallet, fed) if prepare else fed), stop):
                    return
                pages += 1
        except BaseException as ex:  # noqa: B036 -- reported to the consumer, never lost with the thread
            error = ex
        end = WalletEnd(wallet, requests, pages, self._clock() - started, self._thread_wait() - wait_before, error)
        self._put(out, end, stop)

    def _get(self, request: RequestLike) -> Any:
        with self._lock:
            self._in_flight += 1
            self.stats.in_flight_peak = max(self.stats.in_flight_peak, self._in_flight)
            self.stats.requests += 1
        try:
            return self.client.get_json(request.endpoint, request.params)
        finally:
            with self._lock:
                self._in_flight -= 1

    def _put(self, out: queue.Queue, event: Any, stop: threading.Event) -> bool:
        """Hand an event to the consumer, waiting while ``max_buffered`` are pending; False once stopped."""
        waited_from = self._clock()
        while not stop.is_set():
            try:
                out.put(event, timeout=0.1)
            except queue.Full:
                continue
            with self._lock:
                self.stats.backpressure_s += self._clock() - waited_from
            return True
        return False

    def _client_totals(self) -> tuple[float, float, float] | None:
        stats = getattr(self.client, "stats", None)
        if stats is None:
            return None
        return stats.requests, stats.throttled_s, getattr(stats, "responses_429", 0)

    def _thread_wait(self) -> float:
        stats = getattr(self.client, "thread_stats", None)
        return stats.throttled_s if stats is not None else 0.0
