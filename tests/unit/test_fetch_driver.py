"""The concurrent fetch driver with fake pagers and a fake client (pure orchestration, no HTTP)."""

from __future__ import annotations

import contextlib
import random
import threading
import time
from typing import Any, NamedTuple

import pytest

from clob_pipeline.fills.fetch_driver import FetchDriver, FetchedPage, FetchStats, WalletEnd


class Req(NamedTuple):
    endpoint: str
    params: dict[str, Any]


class CountingPager:
    """Asks for pages 0..pages-1 of its wallet; ``feed`` returns the page number it was given."""

    def __init__(self, wallet: str, pages: int | None, fail_feed_at: int | None = None) -> None:
        self.wallet, self.pages, self.fail_feed_at = wallet, pages, fail_feed_at
        self.next_page = 0
        self.done = False

    def progress(self) -> tuple:
        return (self.next_page,)

    def rejected(self, error: BaseException) -> bool:
        return False

    def position(self) -> str:
        return f"page {self.next_page}"

    def next_request(self) -> Req | None:
        if self.pages is not None and self.next_page >= self.pages:
            return None
        return Req("/trades", {"user": self.wallet, "page": self.next_page})

    def feed(self, body: Any) -> int:
        assert body["page"] == self.next_page, "fed a response to another request"
        if body["page"] == self.fail_feed_at:
            raise ValueError(f"{self.wallet}: bad page {body['page']}")
        self.next_page += 1
        return body["page"]


class FakeClient:
    """Echoes the request after a short random delay; records how many calls overlap."""

    def __init__(self, fail_user: str | None = None, hold_until_in_flight: int | None = None) -> None:
        self.fail_user, self.hold_until = fail_user, hold_until_in_flight
        self.calls = self.in_flight = self.peak = 0
        self.cond = threading.Condition()
        self.rng = random.Random(3)

    def get_json(self, endpoint: str, params: dict[str, Any]) -> Any:
        with self.cond:
            self.calls += 1
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
            self.cond.notify_all()
            if self.hold_until:  # wait until that many requests overlap (proves the driver reaches it)
                assert self.cond.wait_for(lambda: self.peak >= self.hold_until, timeout=10)
            delay = self.rng.uniform(0, 0.002)
        time.sleep(delay)
        with self.cond:
            self.in_flight -= 1
        if params["user"] == self.fail_user and params["page"] == 1:
            raise RuntimeError("HTTP 500 five times")
        return dict(params)


def collect(driver: FetchDriver, pagers: dict[str, CountingPager]) -> list[FetchedPage | WalletEnd]:
    return list(driver.run(pagers))


def test_pages_come_in_order_per_wallet_and_end_last():
    pagers = {f"w{i}": CountingPager(f"w{i}", pages=i % 5) for i in range(30)}
    client = FakeClient()
    events = collect(FetchDriver(client, max_in_flight=6, max_buffered=3), pagers)
    for wallet, pager in pagers.items():
        own = [e for e in events if e.wallet == wallet]
        assert [e.fed for e in own[:-1]] == list(range(pager.pages))
        assert isinstance(own[-1], WalletEnd) and own[-1].error is None and own[-1].requests == pager.pages
    assert client.calls == sum(range(5)) * 6


def test_a_failing_wallet_is_reported_and_the_others_finish():
    pagers = {w: CountingPager(w, pages=3) for w in ("a", "b", "c", "d")}
    pagers["c"].fail_feed_at = 2
    driver = FetchDriver(FakeClient(fail_user="b"), max_in_flight=2)
    events = collect(driver, pagers)
    ends = {e.wallet: e for e in events if isinstance(e, WalletEnd)}
    assert isinstance(ends["b"].error, RuntimeError) and ends["b"].pages == 1  # page 0 was delivered
    assert isinstance(ends["c"].error, ValueError) and ends["c"].pages == 2
    assert ends["a"].error is None and ends["d"].error is None and ends["d"].pages == 3
    assert driver.stats.wallets_failed == 2 and driver.stats.wallets == 4


def test_max_in_flight_is_reached_and_never_passed():
    pagers = {f"w{i}": CountingPager(f"w{i}", pages=2) for i in range(20)}
    client = FakeClient(hold_until_in_flight=5)
    driver = FetchDriver(client, max_in_flight=5)
    collect(driver, pagers)
    assert client.peak == 5 and driver.stats.in_flight_peak == 5


def test_a_slow_consumer_holds_the_fetchers_back_and_closing_stops_them():
    pagers = {f"w{i}": CountingPager(f"w{i}", pages=None) for i in range(4)}  # never done
    client = FakeClient()
    before = threading.active_count()
    with contextlib.closing(FetchDriver(client, max_in_flight=4, max_buffered=3).run(pagers)) as events:
        next(events)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # wait until the fetchers stall on the full buffer
            calls = client.calls
            time.sleep(0.2)
            if client.calls == calls:
                break
        # 1 taken + 3 buffered + at most one page held by each of the 4 workers
        assert client.calls <= 1 + 3 + 4
    assert threading.active_count() == before  # the workers are gone


def test_no_pagers_yields_nothing():
    assert collect(FetchDriver(FakeClient()), {}) == []


def test_bad_sizes_are_refused():
    with pytest.raises(ValueError, match="max_in_flight"):
        FetchDriver(FakeClient(), max_in_flight=0)


def test_stats_read_the_clients_counters_and_rate_against_the_budget():
    class StatsClient(FakeClient):
        class Stats:
            requests, throttled_s, responses_429 = 0, 0.0, 0

        stats = Stats()
        thread_stats = Stats()  # one object for all threads here; per-thread in the real hook
        budget_per_s = 20.0

        def get_json(self, endpoint, params):
            self.stats.requests += 2  # the hook retried once
            return super().get_json(endpoint, params)

    ticks = iter(range(0, 10_000, 1))
    driver = FetchDriver(StatsClient(), max_in_flight=1, clock=lambda: float(next(ticks)))
    collect(driver, {"a": CountingPager("a", pages=3)})
    stats = driver.stats
    assert stats.requests == 3 and stats.http_attempts == 6 and stats.budget_per_s == 20.0
    assert stats.requests_per_s == pytest.approx(6 / stats.span_s)
    assert "0 answered 429" in stats.summary() and "of the budget 20/s" in stats.summary()


def test_summary_states_the_numbers():
    stats = FetchStats(wallets=60, requests=240, http_attempts=240, pages=240, in_flight_peak=16, span_s=12.0, budget_per_s=20.0)
    text = stats.summary()
    assert "240 requests" in text and "20.0 requests/s = 1.00 of the budget 20/s" in text and "in-flight peak 16" in text
