"""A long load that is killed midway has already logged how far it got (issue 15).

``airflow dags test clob_backfill`` runs in a child process against a slow emulator; as soon as
the load logs its first progress line, the child is killed with SIGKILL (what the kernel's OOM
killer does), and the output it wrote before dying must hold that line with pages, fills, the
oldest time reached, requests per second and elapsed time.
"""

from __future__ import annotations

import calendar
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from conftest import ROOT

AIRFLOW = str(Path(sys.executable).parent / "airflow")
PROGRESS = re.compile(
    r"wallet (0x[0-9a-f]{40}) progress: pages=(\d+) \(([\d.]+) requests/s\) fills=(\d+) "
    r"read back to (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ) elapsed=([\d.]+)s"
)


def test_a_killed_long_load_shows_its_last_progress_line(database, emulator_factory, airflow_db):
    emu = emulator_factory(
        wallets=1, proxy_users=0, fills_per_wallet=9000, rate_scale=0, latency_ms=150,
        extra={"page_size": 100, "max_in_flight": 1},
    )  # fmt: skip
    wallet = emu.dataset.wallets[0]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "plugins"), os.environ.get("PYTHONPATH", "")])}
    conf = json.dumps({"lookback": "all", "wallets": [wallet]})
    child = subprocess.Popen(
        [AIRFLOW, "dags", "test", "clob_backfill", "-c", conf],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )  # fmt: skip
    output: list[str] = []
    first_progress = threading.Event()

    def read() -> None:
        for line in child.stdout:
            output.append(line)
            if PROGRESS.search(line):
                first_progress.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 180
        while not first_progress.wait(0.2) and child.poll() is None and time.monotonic() < deadline:
            pass
        assert first_progress.is_set(), "no progress line while the load ran:\n" + "".join(output[-40:])
        assert child.poll() is None, "the load finished before it could be killed: make it longer"
        os.killpg(child.pid, signal.SIGKILL)
    finally:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)
        child.wait(30)
        reader.join(30)

    assert child.returncode == -signal.SIGKILL
    lines = [m for m in map(PROGRESS.search, output) if m]
    assert lines, "".join(output[-40:])
    last = lines[-1]
    assert last.group(1) == wallet
    pages, rate, fills, elapsed = int(last.group(2)), float(last.group(3)), int(last.group(4)), float(last.group(6))
    assert pages >= 10 and 0 < fills <= 100 * pages and rate > 0 and elapsed >= 5
    served = sorted(f.ts for f in emu.dataset.visible_fills(wallet))  # newest first, so "read back to" falls inside
    reached = calendar.timegm(time.strptime(last.group(5), "%Y-%m-%dT%H:%M:%SZ"))
    assert served[0] <= reached <= served[-1] and fills < len(served)
    assert not any(f"wallet {wallet}: table=" in line for line in output)  # the end-of-load line never came
