"""``make bench``: measure the speed and memory goals and print the numbers (it asserts nothing).

1. load path (normalise + idempotent Arrow insert) vs the raw engine insert of the same rows
   (pre-built Arrow batches into an empty table), in this process on chDB; ratio = raw time /
   load time (goal >= 0.5). The load path runs as in a load task: the fetch driver's thread
   normalises each page (``prepare``), this thread stores.
2. 20,000 fills over 20 wallets through the real DAG (``airflow dags test clob_backfill``)
   against the emulator at the published Data API rate limit (goal < 30 s).
3. Peak RSS of that DAG process for one wallet with 10k and with 1M fills (goal: growth < 100 MB).
4. Fetching at the rate limit (``bench_fetch.py``): the concurrent fetch driver with the loader's
   ``DataApiPager`` over real HTTP at 150 ms latency, 60 wallets x 3,000 fills and 1,000 wallets
   with nothing new (goal: >= 0.8 of the limit, 0 responses 429), and 2 and 8 processes sharing
   one budget (goal: <= 1.0).
5. The same two cases through the real DAGs (``airflow dags test``) at 150 ms emulator latency and
   the published limit: ``clob_backfill`` over 60 wallets x 3,000 fills and a ``clob_incremental``
   run over 1,000 wallets that finds nothing new (``wallets_per_task`` at its default in both).
   Requests and 429s come from the emulator's ``/__emulator/stats``, polled every 0.1 s while the
   DAG runs, which also gives the fetch span (first to last ``/trades`` request, +-0.1 s) and the
   busiest 10 s window; the load tasks' own ``fetch:`` log lines give their summed fetch spans.
   Goals: >= 0.8 of the limit, 0 responses 429.
6. ``pm_proxy_discovery`` with ``top_n=100`` through the real DAG at 150 ms emulator latency and the
   published limits, over 100 EOAs shaped like a top-volume list (mostly proxy, Safe and deposit users
   with a Gamma profile, 10 of them also trading from a second wallet): Gamma and ``/trades``
   requests (emulator stats), mappings stored, seconds. No goal: it shows the cost of probing every
   candidate of every EOA.
7. Data API v1 against v2 (``bench_fetch.bench_fetch_v1_v2``): the same 150 wallets x 4,000 fills
   (several 10 s windows of requests for both)
   through each source's pager and the fetch driver at 150 ms latency and the published limit:
   requests per 1,000 fills and rate-limit use (goal: v2 needs no more requests than v1 and keeps
   >= 0.8 of the limit).
8. The chain source and reconciliation (``bench_chain.py``, issue #20).

Options: ``--quick`` runs smaller sizes (for a smoke check);
``--only load|dag|incremental|rss|fetch|dagfetch|discovery|v1v2|chain|reconcile``.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import re
import shutil
import subprocess
import threading
import time
from pathlib import Path

from bench_fetch import LATENCY_MS, LIMIT, WINDOW_S, bench_fetch_backfill, bench_fetch_incremental, bench_fetch_v1_v2
from local_env import BIN, ROOT, airflow_env, emulator, emulator_get, prepare_airflow

BENCH = ROOT / ".data" / "bench"


def _data_api_requests(stats: dict, suffix: str = "") -> int:
    """Data API trade requests in the emulator's stats: v1 ``/trades`` plus v2 ``/v2/trades`` (``suffix``:
    e.g. ``?user=0x...`` for one wallet's)."""
    return int(stats.get(f"/trades{suffix}", 0)) + int(stats.get(f"/v2/trades{suffix}", 0))


def _whole_second_pages(rows: list[dict], size: int) -> list[list[dict]]:
    """Pages of about ``size`` rows cut only where the second changes, as the pagers hand them over
    (a fill's rank among identical fills is counted within its second)."""
    pages: list[list[dict]] = [[]]
    for row in rows:
        if len(pages[-1]) >= size and row["timestamp"] != pages[-1][-1]["timestamp"]:
            pages.append([])
        pages[-1].append(row)
    return pages


class _MemoryPager:
    """Hands over pre-cut whole-second pages, as a pager does with API responses (no I/O)."""

    def __init__(self, wallet: str, pages: list[list[dict]]) -> None:
        self.wallet, self.pages, self.next, self.done = wallet, pages, 0, not pages

    def next_request(self):
        from clob_pipeline.fills.pagers import ApiRequest

        return None if self.done else ApiRequest("/memory", {"page": self.next})

    def feed(self, body: object):
        from clob_pipeline.fills.pagers import Fed

        fed = Fed(self.pages[self.next], -self.next)
        self.next += 1
        self.done = self.next == len(self.pages)
        return fed

    def rejected(self, error: BaseException) -> bool:
        return False

    def progress(self) -> tuple:
        return (self.next,)

    def position(self) -> str:
        return f"page {self.next}"


def _prepare(normalizer: object, wallet: str, fed: object) -> object:
    from clob_pipeline.fills.columnar import page_table

    return page_table(normalizer, fed.rows)


class _MemoryClient:
    def get_json(self, endpoint: str, params: dict) -> None:
        return None


def bench_load_vs_raw(n: int) -> None:
    import pyarrow as pa

    from clob_pipeline.config import batch_rows
    from clob_pipeline.fills.arrow import with_ingested_at
    from clob_pipeline.fills.columnar import page_table
    from clob_pipeline.fills.fetch_driver import FetchDriver, FetchedPage
    from clob_pipeline.fills.normalize import DataApiFillNormalizer
    from clob_pipeline.hooks.clickhouse import ClickHouseHook
    from clob_pipeline.operators.fill_writer import FillBatchWriter, gc_paused
    from polymarket_emulator.dataset import build_dataset
    from polymarket_emulator.server import data_api_row

    path = BENCH / "chdb-inproc"
    shutil.rmtree(path, ignore_errors=True)
    os.environ["AIRFLOW_CONN_CLICKHOUSE_DEFAULT"] = json.dumps(
        {"conn_type": "clickhouse", "schema": "bench", "extra": {"chdb_path": str(path)}}
    )
    dataset = build_dataset(wallets=1, fills_per_wallet=n, late_fraction=0)
    wallet = dataset.wallets[0]
    rows = [data_api_row(f) for f in dataset.visible_fills(wallet)]
    pages = _whole_second_pages(rows, 1000)
    batch = batch_rows()  # the pipeline's insert batch
    normalizer = DataApiFillNormalizer(wallet, wallet)
    prepared = pa.concat_tables([page_table(normalizer, page) for page in pages])
    arrow_batches = [with_ingested_at(prepared.slice(i, batch), 0).combine_chunks() for i in range(0, len(rows), batch)]
    del prepared

    results: dict[str, list[float]] = {"load": [], "raw": []}
    with ClickHouseHook() as ch:
        ch.run_sql_file("schema/database.sql")
        for attempt in range(3):
            for table in (f"load_{attempt}", f"raw_{attempt}"):
                ch.run_sql_file("schema/fills_table.sql", {"fills_table": table})
            started = time.perf_counter()
            for arrow_batch in arrow_batches:
                ch.insert_arrow(f"raw_{attempt}", arrow_batch)
            results["raw"].append(time.perf_counter() - started)

            started = time.perf_counter()
            with gc_paused():
                normalizer = DataApiFillNormalizer(wallet, wallet)
                writer = FillBatchWriter(ch, f"load_{attempt}", wallet, newest_stored_ms=0)  # a first load
                # as a load task runs: the fetching thread normalises (prepare), this thread stores
                driver = FetchDriver(_MemoryClient(), max_in_flight=1)
                prepare = functools.partial(_prepare, normalizer)
                for event in driver.run({wallet: _MemoryPager(wallet, pages)}, prepare):
                    if isinstance(event, FetchedPage):
                        writer.add(event.fed)
                        if writer.pending >= batch:
                            writer.flush()
                    elif event.error is not None:
                        raise event.error
                writer.flush()
            results["load"].append(time.perf_counter() - started)
            stored = ch.query_rows("SELECT count() FROM {db:Identifier}.{t:Identifier}", {"t": f"load_{attempt}"})[0][0]
            assert stored == len(rows), (stored, len(rows))
    load, raw = min(results["load"]), min(results["raw"])
    print(
        f"[load] {len(rows)} fills, best of 3: load path {load:.2f}s ({len(rows) / load:,.0f} fills/s), "
        f"raw Arrow insert {raw:.2f}s ({len(rows) / raw:,.0f} fills/s); ratio raw/load = {raw / load:.2f} (goal >= 0.5)"
    )
    print(f"[load] all timings: load {[round(x, 2) for x in results['load']]} raw {[round(x, 2) for x in results['raw']]}")


def _vm_hwm_mb(pid: int) -> int:
    """Peak resident memory of one live process (``VmHWM``), 0 once it has exited."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) // 1024
    except OSError:
        pass
    return 0


def _descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        try:
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as children:
                    todo += [int(c) for c in children.read().split()]
        except OSError:
            continue
        found.append(current)
    return found


def _run_dag(env: dict[str, str], conf: dict, dag_id: str = "clob_backfill", log: Path | None = None) -> tuple[float, int, int]:
    """Run a DAG with `airflow dags test` in a child process; return (seconds, peak RSS in MB, exit code).

    The peak is the largest ``VmHWM`` of the child and its descendants, polled while they run.
    (``ru_maxrss`` from ``wait4`` is not used: a child started with vfork/exec inherits the
    parent's high-water mark, so after the in-process load bench it reported the bench's own peak.)
    ``log``: write the run's output there (default: discard it).
    """
    out = open(log, "wb") if log is not None else subprocess.DEVNULL  # noqa: SIM115 -- closed below
    try:
        started = time.monotonic()
        proc = subprocess.Popen(
            [str(BIN / "airflow"), "dags", "test", dag_id, "-c", json.dumps(conf)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT if log is not None else subprocess.DEVNULL,
        )
        peak = 0
        while proc.poll() is None:
            peak = max([peak] + [_vm_hwm_mb(pid) for pid in _descendants(proc.pid)])
            time.sleep(0.05)
        return time.monotonic() - started, peak, proc.returncode
    finally:
        if log is not None:
            out.close()


def _fresh_env(name: str, url: str) -> dict[str, str]:
    chdb = BENCH / f"chdb-{name}"
    shutil.rmtree(chdb, ignore_errors=True)
    env = airflow_env(BENCH / "airflow", chdb, url)
    env["CLOB_PIPELINE_RETRIES"] = "0"
    return env


def bench_dag(wallets: int, fills: int) -> None:
    with emulator(BENCH / "emu-dag", wallets=wallets, fills_per_wallet=fills, late_fraction=0, rate_scale=1) as url:
        env = _fresh_env("dag", url)
        prepare_airflow(env)
        wallet_list = [u["proxy_wallet"] for u in emulator_get(url, "/__emulator/dataset")["users"]]
        seconds, rss, code = _run_dag(env, {"lookback": "all", "wallets": wallet_list})
        stats = emulator_get(url, "/__emulator/stats")
    print(
        f"[dag] {wallets * fills} fills over {wallets} wallets via `airflow dags test clob_backfill` at the published "
        f"rate limit: {seconds:.1f}s wall (goal < 30 s), exit {code}, {_data_api_requests(stats)} Data API trade requests, "
        f"{stats.get('429', 0)} throttled (429)"
    )


def _seed_mapping(env: dict[str, str], users: list[dict]) -> None:
    """Write the emulator's users into the staging mapping (what pm_proxy_discovery would find)."""
    os.environ["AIRFLOW_CONN_CLICKHOUSE_DEFAULT"] = env["AIRFLOW_CONN_CLICKHOUSE_DEFAULT"]
    from clob_pipeline.hooks.clickhouse import ClickHouseHook

    with ClickHouseHook() as ch:  # closed before Airflow opens the chDB folder
        for name in ("schema/database.sql", "schema/proxy_table.sql"):
            ch.run_sql_file(name, {"proxy_table": "pm_user_proxy_wallets_v2"})
        ch.bulk_insert_rows(
            "pm_user_proxy_wallets_v2",
            [(u["user_eoa"], u["proxy_wallet"], u["wallet_type"], "bench") for u in users],
            column_names=["user_eoa", "proxy_wallet", "wallet_type", "resolved_by"],
        )


def bench_incremental(wallets: int) -> None:
    """A first clob_incremental run loads every wallet; the second finds nothing new and is timed."""
    with emulator(BENCH / "emu-inc", wallets=wallets, fills_per_wallet=20, late_fraction=0, rate_scale=1) as url:
        env = _fresh_env("inc", url)
        prepare_airflow(env)
        users = emulator_get(url, "/__emulator/dataset")["users"]
        _seed_mapping(env, users)
        first_s, _, first_code = _run_dag(env, {}, "clob_incremental")
        before = emulator_get(url, "/__emulator/stats")
        seconds, rss, code = _run_dag(env, {}, "clob_incremental")
        after = emulator_get(url, "/__emulator/stats")
    per_wallet = [
        _data_api_requests(after, f"?user={u['proxy_wallet']}") - _data_api_requests(before, f"?user={u['proxy_wallet']}")
        for u in users
    ]
    requests = _data_api_requests(after) - _data_api_requests(before)
    print(
        f"[incremental] {len(users)} wallets, nothing new: {seconds:.1f}s wall (goal < 20 s), exit {code}, "
        f"{requests} /trades requests (goal: exactly one per wallet; min {min(per_wallet)}, max {max(per_wallet)} "
        f"per wallet), peak RSS {rss} MB; first run (loading) {first_s:.1f}s, exit {first_code}"
    )


def bench_rss(sizes: list[int]) -> None:
    peaks = {}
    for size in sizes:
        with emulator(BENCH / f"emu-rss-{size}", wallets=1, fills_per_wallet=size, late_fraction=0, rate_scale=0) as url:
            env = _fresh_env(f"rss-{size}", url)
            prepare_airflow(env)
            wallet = emulator_get(url, "/__emulator/dataset")["users"][0]["proxy_wallet"]
            seconds, rss, code = _run_dag(env, {"lookback": "all", "wallets": [wallet]})
            served = _data_api_requests(emulator_get(url, "/__emulator/stats"))
        peaks[size] = rss
        print(f"[rss] one wallet, {size:,} fills: peak RSS {rss} MB, {seconds:.1f}s, {served} requests, exit {code}")
    if len(sizes) == 2:
        small, large = sizes
        print(f"[rss] growth {small:,} -> {large:,} fills: {peaks[large] - peaks[small]} MB (goal < 100 MB)")


# --- DAG-level fetch at the rate limit (issue 13) ----------------------------------------------
class _StatsSampler:
    """Polls ``/__emulator/stats`` every ``interval_s`` on a thread: (time, requests, 429) samples
    (``keys``: the stats counting requests and 429s; ``/trades`` counts v1 and v2 Data API trade requests;
    the chain bench counts ``rpc`` and ``rpc:429``)."""

    def __init__(self, url: str, interval_s: float = 0.1, keys: tuple[str, str] = ("/trades", "429")) -> None:
        self.url, self.interval_s, self.keys = url, interval_s, keys
        self.samples: list[tuple[float, int, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _sample(self) -> None:
        try:
            stats = emulator_get(self.url, "/__emulator/stats")
        except OSError:
            return
        requests = _data_api_requests(stats) if self.keys[0] == "/trades" else int(stats.get(self.keys[0], 0))
        self.samples.append((time.monotonic(), requests, int(stats.get(self.keys[1], 0))))

    def _poll(self) -> None:
        while not self._stop.wait(self.interval_s):
            self._sample()

    def __enter__(self) -> _StatsSampler:
        self._sample()  # the baseline, before the DAG starts
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()  # the final counts

    def numbers(self) -> dict[str, float]:
        """Requests and 429s since the baseline, the span from the last sample before the first
        request to the first sample after the last one, and the busiest ``WINDOW_S`` seconds."""
        samples = self.samples
        base_t, base_n, base_429 = samples[0]
        last_n, last_429 = samples[-1][1], samples[-1][2]
        changed = [i for i in range(1, len(samples)) if samples[i][1] != samples[i - 1][1]]
        span = samples[changed[-1]][0] - samples[changed[0] - 1][0] if changed else 0.0
        busiest, lo = 0, 0
        for t, n, _ in samples:
            while t - samples[lo][0] > WINDOW_S:
                lo += 1
            busiest = max(busiest, n - samples[lo][1])
        return {"requests": last_n - base_n, "429": last_429 - base_429, "span_s": span, "busiest": busiest}


_FETCH_LINE = re.compile(
    r"fetch: fetched (?P<wallets>\d+) wallets \((?P<failed>\d+) failed\): (?P<requests>\d+) requests "
    r"\((?P<attempts>\d+) HTTP attempts, (?P<r429>\d+) answered 429\), \d+ pages in (?P<span>[\d.]+)s.*?"
    r"in-flight peak (?P<peak>\d+); waited (?P<wait>[\d.]+)s for the rate limiter"
)


def _fetch_lines(log: Path) -> list[dict[str, float]]:
    """The load tasks' ``fetch:`` summary lines in a ``dags test`` output (one per task)."""
    text = log.read_text(errors="replace") if log.exists() else ""
    return [{k: float(v) for k, v in m.groupdict().items()} for m in _FETCH_LINE.finditer(text)]


def _limit_use(requests: float, seconds: float) -> float:
    return requests / seconds / (LIMIT / WINDOW_S) if seconds > 0 else 0.0


def _report_dag_fetch(label: str, seconds: float, code: int, sampled: dict[str, float], log: Path) -> None:
    tasks = _fetch_lines(log)
    print(
        f"[dagfetch] {label}: exit {code}, run {seconds:.1f}s; {sampled['requests']:.0f} /trades requests "
        f"(emulator stats, incl. one served-size probe per load task); fetch span {sampled['span_s']:.1f}s "
        f"(first to last /trades request); rate-limit use = requests/s over the span / {LIMIT // WINDOW_S:.0f}/s: "
        f"{_limit_use(sampled['requests'], sampled['span_s']):.2f} (goal >= 0.8), over the whole run "
        f"{_limit_use(sampled['requests'], seconds):.2f}; busiest 10 s window {sampled['busiest']:.0f}/{LIMIT}; "
        f"{sampled['429']:.0f} responses 429 (goal 0)",
        flush=True,
    )
    if tasks:
        fetch_s = sum(t["span"] for t in tasks)
        attempts = sum(t["attempts"] for t in tasks)
        print(
            f"[dagfetch]   {len(tasks)} load tasks (their `fetch:` log lines): {attempts:.0f} HTTP attempts in "
            f"{fetch_s:.1f}s of fetching summed over tasks = {_limit_use(attempts, fetch_s):.2f} of the limit; "
            f"spans {[round(t['span'], 1) for t in tasks]}, in-flight peaks {[int(t['peak']) for t in tasks]}, "
            f"limiter wait {sum(t['wait'] for t in tasks):.1f}s, wallets failed {sum(t['failed'] for t in tasks):.0f}",
            flush=True,
        )
    else:
        print(f"[dagfetch]   no `fetch:` summary line found in {log}", flush=True)


def _fetch_env(name: str, url: str, fresh: bool = True) -> dict[str, str]:
    """``_fresh_env`` (or the same chDB folder kept) with a rate-limiter folder of its own."""
    env = _fresh_env(name, url) if fresh else airflow_env(BENCH / "airflow", BENCH / f"chdb-{name}", url)
    env["CLOB_PIPELINE_RETRIES"] = "0"
    rate_dir = BENCH / f"rate-{name}-{'first' if fresh else 'again'}"
    shutil.rmtree(rate_dir, ignore_errors=True)
    env["CLOB_PIPELINE_RATE_LIMIT_DIR"] = str(rate_dir)
    return env


def bench_dag_fetch_backfill(wallets: int, fills: int) -> None:
    """``clob_backfill`` (lookback all, ``wallets_per_task`` default) at 150 ms latency and the published limit."""
    opts = {"wallets": wallets, "fills_per_wallet": fills, "late_fraction": 0, "rate_scale": 1, "latency_ms": LATENCY_MS}
    with emulator(BENCH / "emu-dagfetch", **opts) as url:
        env = _fetch_env("dagfetch", url)
        prepare_airflow(env)
        wallet_list = [u["proxy_wallet"] for u in emulator_get(url, "/__emulator/dataset")["users"]]
        log = BENCH / "dagfetch-backfill.log"
        with _StatsSampler(url) as sampler:
            seconds, _, code = _run_dag(env, {"lookback": "all", "wallets": wallet_list}, "clob_backfill", log)
    label = f"clob_backfill {wallets} wallets x {fills:,} fills, {LATENCY_MS} ms latency, published limit"
    _report_dag_fetch(label, seconds, code, sampler.numbers(), log)


def bench_dag_fetch_incremental(wallets: int) -> None:
    """A ``clob_incremental`` run that finds nothing new for ``wallets`` wallets, at 150 ms latency
    and the published limit. The first run (which loads every wallet) goes to an emulator with the
    same data set and no latency or limit, so only the measured run waits on them."""
    anchor = int(time.time()) // 3600 * 3600
    opts = {"wallets": wallets, "fills_per_wallet": 20, "late_fraction": 0, "anchor": anchor}
    with emulator(BENCH / "emu-dagfetch-inc-load", **opts, rate_scale=0) as url:
        env = _fetch_env("dagfetch-inc", url)
        prepare_airflow(env)
        users = emulator_get(url, "/__emulator/dataset")["users"]
        _seed_mapping(env, users)
        first_s, _, first_code = _run_dag(env, {}, "clob_incremental", BENCH / "dagfetch-inc-first.log")
    with emulator(BENCH / "emu-dagfetch-inc", **opts, rate_scale=1, latency_ms=LATENCY_MS) as url:
        env = _fetch_env("dagfetch-inc", url, fresh=False)
        log = BENCH / "dagfetch-incremental.log"
        with _StatsSampler(url) as sampler:
            seconds, _, code = _run_dag(env, {}, "clob_incremental", log)
    label = (
        f"clob_incremental {len(users)} wallets, nothing new, {LATENCY_MS} ms latency, published limit "
        f"(first run, loading, without latency: {first_s:.1f}s, exit {first_code})"
    )
    _report_dag_fetch(label, seconds, code, sampler.numbers(), log)


def bench_discovery(top_n: int) -> None:
    """``pm_proxy_discovery`` over ``top_n`` EOAs: 80 % proxy / Safe users, 15 % deposit users, the rest
    direct, and one in ten also trading from a second wallet Gamma does not name."""
    opts = {
        "wallets": top_n,
        "proxy_users": top_n * 8 // 10,
        "deposit_users": top_n * 15 // 100,
        "two_wallet_users": top_n // 10,
        "fills_per_wallet": 5,
        "rate_scale": 1,
        "latency_ms": LATENCY_MS,
    }
    with emulator(BENCH / "emu-discovery", **opts) as url:
        env = _fetch_env("discovery", url)
        prepare_airflow(env)
        users = emulator_get(url, "/__emulator/dataset")["users"]
        eoas = sorted({u["user_eoa"] for u in users})
        os.environ["AIRFLOW_CONN_CLICKHOUSE_DEFAULT"] = env["AIRFLOW_CONN_CLICKHOUSE_DEFAULT"]
        from clob_pipeline.hooks.clickhouse import ClickHouseHook

        with ClickHouseHook() as ch:  # closed before Airflow opens the chDB folder
            ch.run_sql_file("schema/database.sql")
            ch.run_sql_file("schema/state_tables.sql")
            ch.run_sql_file("demo/seed_wallet_metrics.sql", {"wallets": eoas, "volumes": [50_000.0] * len(eoas)})
        seconds, _, code = _run_dag(env, {"top_n": top_n}, "pm_proxy_discovery", BENCH / "discovery.log")
        stats = emulator_get(url, "/__emulator/stats")
        with ClickHouseHook() as ch:
            stored = ch.query_rows("SELECT count() FROM {db:Identifier}.pm_user_proxy_wallets_v2 FINAL")[0][0]
    probes = stats.get("/v2/trades", 0) + stats.get("/trades", 0)  # v2 by default; v1 when the Param says so
    print(
        f"[discovery] pm_proxy_discovery top_n={top_n}, {LATENCY_MS} ms latency, published limits: exit {code}, "
        f"run {seconds:.1f}s; {stats.get('/public-profile', 0)} /public-profile + {probes} has-trades probes "
        f"({stats.get('/v2/trades', 0)} /v2/trades, {stats.get('/trades', 0)} /trades) "
        f"= {(stats.get('/public-profile', 0) + probes) / len(eoas):.1f} requests per EOA, "
        f"{stats.get('429', 0)} responses 429; {stored} of the emulator's {len(users)} wallets mapped "
        f"({len(users) - len(eoas)} EOAs trade from two)",
        flush=True,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument(
        "--only",
        choices=["load", "dag", "incremental", "rss", "fetch", "dagfetch", "discovery", "v1v2", "chain", "reconcile"],
    )
    args = parser.parse_args()
    BENCH.mkdir(parents=True, exist_ok=True)
    if args.only in (None, "load"):
        bench_load_vs_raw(50_000 if args.quick else 200_000)
    if args.only in (None, "dag"):
        bench_dag(20, 1000)
    if args.only in (None, "incremental"):
        bench_incremental(100)
    if args.only in (None, "rss"):
        bench_rss([10_000, 100_000] if args.quick else [10_000, 1_000_000])
    if args.only in (None, "fetch"):
        bench_fetch_backfill(BENCH, *((16, 1500) if args.quick else (60, 3000)))
        bench_fetch_incremental(BENCH, 200 if args.quick else 1000)
    if args.only in (None, "v1v2"):
        bench_fetch_v1_v2(BENCH, *((40, 1500) if args.quick else (150, 4000)))
    if args.only in (None, "dagfetch"):
        bench_dag_fetch_backfill(*((30, 600) if args.quick else (60, 3000)))
        bench_dag_fetch_incremental(60 if args.quick else 1000)
    if args.only in (None, "discovery"):
        bench_discovery(100)
    if args.only in (None, "chain"):  # issue #20: scripts/bench_chain.py
        from bench_chain import bench_chain_backfill

        bench_chain_backfill(*((20, 90) if args.quick else (100, 90)))
    if args.only in (None, "reconcile"):
        from bench_chain import bench_reconcile

        bench_reconcile(100_000 if args.quick else 1_000_000)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
