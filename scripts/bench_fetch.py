"""``make bench`` fetch part: the concurrent fetch driver over real HTTP at the published rate limit.

The emulator answers every request after 150 ms and enforces the Data API ``/trades`` limit
(200 per 10 s, 429 past it). Printed (never asserted):

- 60 wallets x 3,000 fills (backfill) and 1,000 wallets with nothing new (incremental: one
  request each): requests, rate-limit use = requests/s over the fetch span / published limit,
  the busiest 10 s window / the limit, 429s, in-flight peak, limiter wait;
- 2 and 8 processes fetching at once, each with its own hook and driver, sharing the host's
  limiter state: what they send together against the limit (goal <= 1.0, 0 responses 429).

The pagers are the loader's own: ``fills/pagers.DataApiPager`` (complete-second paging) with the
hook's page size and the served page size the hook learns once (``served_page_size()``: one
market-wide ``/trades`` request per hook, sent before the measured span and printed apart).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from local_env import BIN, ROOT, emulator, emulator_get

LATENCY_MS = 150
LIMIT, WINDOW_S = 200, 10.0  # published Data API /trades limit


def _use_connection(url: str, rate_dir: Path, shared: bool = True) -> None:
    """Point the Data API connection at the emulator with a fresh shared-limiter folder."""
    os.environ.setdefault("AIRFLOW_HOME", str(ROOT / ".data" / "bench" / "airflow"))
    extra = {"rate_limit_dir": str(rate_dir), "rate_limit_shared": shared}
    os.environ["AIRFLOW_CONN_POLYMARKET_DATA_API"] = json.dumps({"conn_type": "http", "host": url, "extra": extra})


def data_api_hook(source: str = "data_api_v1") -> tuple[Any, Any, int]:
    """The Data API hook as a load task builds it and the source's pager factory (v1: after the
    served-size probe, one request; its size is returned, 0 for v2)."""
    from clob_pipeline.hooks.polymarket import PolymarketDataApiHook
    from clob_pipeline.operators.fill_sources import SOURCES

    hook = PolymarketDataApiHook()
    make_pager = SOURCES[source].pagers(hook)
    return hook, make_pager, getattr(make_pager, "keywords", {}).get("served_size", 0)


def fetch(
    hook: Any, make_pager: Any, served: int, wallets: list[str], start_s: int, upper_s: int | None = None
) -> dict[str, Any]:
    """Drive the source's pager per wallet (window ``start_s..upper_s``, default now) through the
    hook and the fetch driver, as the loader does; numbers and response times."""
    from clob_pipeline.fills.fetch_driver import FetchDriver, FetchedPage, WalletEnd

    upper = int(time.time()) if upper_s is None else upper_s
    pagers = {w: make_pager(w, start_s, upper) for w in wallets}
    answered: list[float] = []
    get_json = hook.get_json

    def timed_get_json(endpoint: str, params: dict[str, Any]) -> Any:
        body = get_json(endpoint, params)
        answered.append(time.time())
        return body

    hook.get_json = timed_get_json  # type: ignore[method-assign]
    driver = FetchDriver(hook, max_in_flight=hook.max_in_flight)
    rows = failed = 0
    per_wallet: list[int] = []
    try:
        for event in driver.run(pagers):
            if isinstance(event, FetchedPage):
                rows += len(event.fed.rows)
            elif isinstance(event, WalletEnd):
                per_wallet.append(event.requests)
                if event.error is not None:
                    failed += 1
                    print(f"[fetch] wallet {event.wallet} failed: {event.error!r}", flush=True)
    finally:
        hook.get_json = get_json  # type: ignore[method-assign]
    return {
        "rows": rows,
        "failed": failed,
        "answered": answered,
        "served": served,
        "page_size": hook.page_size,
        "per_wallet": [min(per_wallet, default=0), max(per_wallet, default=0)],
        "summary": driver.stats.summary(),
        **driver.stats.__dict__,
    }


def _busiest_window(times: list[float]) -> int:
    """Most responses inside any WINDOW_S seconds (client-side response times)."""
    times, best, lo = sorted(times), 0, 0
    for hi, t in enumerate(times):
        while t - times[lo] >= WINDOW_S:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def _use(requests: int, span_s: float) -> float:
    return requests / span_s / (LIMIT / WINDOW_S) if span_s > 0 else 0.0


def _report(label: str, result: dict[str, Any], http_429: int) -> None:
    print(
        f"[fetch] {label}: {result['http_attempts']} requests in {result['span_s']:.1f}s, {result['rows']:,} rows, "
        f"rate-limit use {_use(result['http_attempts'], result['span_s']):.2f} (requests/s over the span / 20/s; goal >= 0.8), "
        f"busiest 10 s window {_busiest_window(result['answered'])}/{LIMIT}, {http_429} responses 429 (goal 0), "
        f"in-flight peak {result['in_flight_peak']}, {result['failed']} wallets failed",
        flush=True,
    )
    low, high = result["per_wallet"]
    print(
        f"[fetch]   pager: limit={result['page_size']}, v1 served page size {result['served'] or 'unknown / v2'} "
        f"(v1 learns it by 1 probe request before the span, not counted above); requests per wallet {low}..{high}",
        flush=True,
    )
    print(f"[fetch]   driver: {result['summary']}", flush=True)


def _run_one(url: str, wallets: list[str], start_s: int, label: str, source: str = "data_api_v1") -> dict[str, Any]:
    rate_dir = Path(tempfile.mkdtemp(prefix="bench-rate-"))
    try:
        _use_connection(url, rate_dir)
        hook, make_pager, served = data_api_hook(source)
        before = emulator_get(url, "/__emulator/stats").get("429", 0)
        try:
            result = fetch(hook, make_pager, served, wallets, start_s)
        finally:
            hook.close()
        _report(label, result, emulator_get(url, "/__emulator/stats").get("429", 0) - before)
        return result
    finally:
        shutil.rmtree(rate_dir, ignore_errors=True)


def bench_fetch_v1_v2(bench: Path, wallets: int = 150, fills: int = 4000) -> None:
    """The same wallets through Data API v1 (complete-second pages) and v2 (cursor walk), each with a
    fresh budget: requests per 1,000 fills and rate-limit use (goal: v2 needs no more requests than
    v1 and keeps >= 0.8 of the limit)."""
    opts = {"wallets": wallets, "fills_per_wallet": fills, "late_fraction": 0, "rate_scale": 1, "latency_ms": LATENCY_MS}
    with emulator(bench / "emu-fetch-v1v2", **opts) as url:
        users = [u["proxy_wallet"] for u in emulator_get(url, "/__emulator/dataset")["users"]]
        numbers = {}
        for source in ("data_api_v1", "data_api_v2"):
            _post(url, "/__emulator/reset")  # a fresh server-side window for each
            label = f"{source}: {wallets} wallets x {fills:,} fills, {LATENCY_MS} ms latency"
            result = _run_one(url, users, 1, label, source)
            numbers[source] = (result["http_attempts"], result["rows"], _use(result["http_attempts"], result["span_s"]))
            print(f"[v1v2]   {source}: busiest 10 s window {_busiest_window(result['answered'])}/{LIMIT}", flush=True)
    for source, (requests, rows, use) in numbers.items():
        print(
            f"[v1v2] {source}: {requests} requests for {rows:,} fills = {1000 * requests / max(rows, 1):.2f} requests per "
            f"1,000 fills; rate-limit use {use:.2f}{' (plus 1 served-size probe)' if source.endswith('v1') else ''}",
            flush=True,
        )
    (v1, _, _), (v2, _, use2) = numbers["data_api_v1"], numbers["data_api_v2"]
    print(f"[v1v2] v2 needs {v2 / max(v1, 1):.2f}x the requests of v1 (goal <= 1.0) at {use2:.2f} of the limit (goal >= 0.8)")


def bench_fetch_backfill(bench: Path, wallets: int = 60, fills: int = 3000) -> None:
    opts = {"wallets": wallets, "fills_per_wallet": fills, "late_fraction": 0, "rate_scale": 1, "latency_ms": LATENCY_MS}
    with emulator(bench / "emu-fetch", **opts) as url:
        users = [u["proxy_wallet"] for u in emulator_get(url, "/__emulator/dataset")["users"]]
        _run_one(url, users, 1, f"backfill {wallets} wallets x {fills:,} fills, {LATENCY_MS} ms latency, 1 process")
        for processes, shared in ((2, True), (8, True), (8, False)):
            _post(url, "/__emulator/reset")
            bench_fetch_processes(url, users, processes, bench, shared)


def bench_fetch_incremental(bench: Path, wallets: int = 1000) -> None:
    """Every wallet's window starts just after its newest fill (none is newer than ``anchor - 60``):
    one request each, answered empty."""
    opts = {"wallets": wallets, "fills_per_wallet": 5, "late_fraction": 0, "rate_scale": 1, "latency_ms": LATENCY_MS}
    with emulator(bench / "emu-fetch-inc", **opts) as url:
        dataset = emulator_get(url, "/__emulator/dataset")
        users = [u["proxy_wallet"] for u in dataset["users"]]
        after_newest = int(dataset["anchor_s"]) - 59
        _run_one(url, users, after_newest, f"incremental {wallets} wallets, nothing new, {LATENCY_MS} ms latency")


def _post(url: str, path: str) -> None:
    import urllib.request

    with urllib.request.urlopen(urllib.request.Request(url + path, data=b"{}", method="POST"), timeout=10):
        pass


def bench_fetch_processes(url: str, wallets: list[str], processes: int, bench: Path, shared: bool = True) -> None:
    """``processes`` workers (as concurrent load tasks) fetch a share of the wallets each, all at once.

    ``shared=False`` is the control: each process with a budget of its own, as before issue 13.
    """
    work = Path(tempfile.mkdtemp(prefix=f"bench-procs{processes}-", dir=bench))
    rate_dir = work / "rate"
    go = work / "go"
    procs = []
    for i in range(processes):
        (work / f"wallets{i}.json").write_text(json.dumps(wallets[i::processes]))
        cmd = [str(BIN / "python"), __file__, "--worker", url, str(rate_dir), str(work), str(i), str(int(shared))]
        procs.append(subprocess.Popen(cmd, env=dict(os.environ, PYTHONPATH=str(ROOT / "plugins"))))
    while not all((work / f"ready{i}").exists() for i in range(processes)):  # imports done: start together
        if any(p.poll() not in (None, 0) for p in procs):
            raise SystemExit("a fetch worker died; run it by hand to see why")
        time.sleep(0.05)
    go.touch()
    codes = [p.wait() for p in procs]
    results = [json.loads((work / f"result{i}.json").read_text()) for i in range(processes)]
    answered = [t for r in results for t in r["answered"]]
    starts = [r["started"] for r in results]
    span = max(answered) - min(starts) if answered else 0.0
    requests = sum(r["http_attempts"] for r in results)
    http_429 = emulator_get(url, "/__emulator/stats").get("429", 0)
    mode = "one shared limiter" if shared else "CONTROL: a limiter each (as before issue 13)"
    print(
        f"[fetch] {processes} processes at once, {mode}: {requests} requests together in {span:.1f}s, "
        f"busiest 10 s window {_busiest_window(answered)}/{LIMIT} = {_busiest_window(answered) / LIMIT:.2f} of the limit "
        f"(goal <= 1.0), requests/s over the span / limit {_use(requests, span):.2f}, {http_429} responses 429, "
        f"in-flight peaks {[r['in_flight_peak'] for r in results]}, exit codes {codes} "
        f"(plus {processes} served-size probes, one per process, before the start line)",
        flush=True,
    )
    shutil.rmtree(work, ignore_errors=True)


def _worker(url: str, rate_dir: str, work: str, index: str, shared: str) -> int:
    """One "load task": import, learn the served page size, say ready, wait for go, fetch its
    wallets, write the numbers."""
    folder = Path(work)
    _use_connection(url, Path(rate_dir), shared == "1")
    import clob_pipeline.fills.fetch_driver  # noqa: F401 -- imports before the start line
    import clob_pipeline.fills.pagers  # noqa: F401

    wallets = json.loads((folder / f"wallets{index}.json").read_text())
    hook, make_pager, served = data_api_hook()  # the served-size probe, as each load task sends it, before the start line
    (folder / f"ready{index}").touch()
    while not (folder / "go").exists():
        time.sleep(0.01)
    started = time.time()
    try:
        result = fetch(hook, make_pager, served, wallets, 1)
    finally:
        hook.close()
    (folder / f"result{index}.json").write_text(json.dumps({**result, "started": started}, default=str))
    return 0


if __name__ == "__main__":  # a worker of bench_fetch_processes; `make bench` runs the rest
    raise SystemExit(_worker(*sys.argv[2:]) if len(sys.argv) == 7 and sys.argv[1] == "--worker" else 2)
