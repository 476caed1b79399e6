"""A second process on an embedded chDB folder fails naming the holder, the pool rule and the fix;
once the holder is gone the same open succeeds (what Airflow's retry then does). Both processes are
subprocesses: the test process keeps its own chDB folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from conftest import ROOT

HOLD = (
    "import clickhouse_connect, sys, time\n"
    "c = clickhouse_connect.get_client(dsn='chdb://' + sys.argv[1])\n"
    "c.query('SELECT 1')\n"
    "print('holding', flush=True)\n"
    "time.sleep(120)\n"
)
OPEN_WITH_HOOK = (
    "from clob_pipeline.errors import is_retryable\n"
    "from clob_pipeline.hooks.clickhouse import ClickHouseHook\n"
    "try:\n"
    "    with ClickHouseHook() as ch:\n"
    "        print('OPENED', ch.query_rows('SELECT 1')[0][0])\n"
    "except Exception as err:\n"
    "    print('FAILED', type(err).__name__, 'retryable' if is_retryable(err) else 'permanent', err)\n"
)


def test_a_busy_chdb_folder_names_its_holder_and_a_retry_succeeds_once_free(tmp_path):
    folder = str(tmp_path / "chdb")
    env = dict(
        os.environ,
        PYTHONPATH=str(ROOT / "plugins"),
        AIRFLOW_CONN_CLICKHOUSE_DEFAULT=json.dumps({"conn_type": "clickhouse", "extra": {"chdb_path": folder}}),
    )
    holder = subprocess.Popen([sys.executable, "-c", HOLD, folder], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "holding"
        busy = subprocess.run([sys.executable, "-c", OPEN_WITH_HOOK], env=env, capture_output=True, text=True).stdout
    finally:
        holder.terminate()
        holder.wait(timeout=30)
    assert busy.startswith("FAILED ChdbFolderBusyError retryable"), busy
    assert f"PID {holder.pid}" in busy and folder in busy  # who holds which folder
    assert "`clickhouse` pool" in busy and "1 slot" in busy and "`airflow dags test` ignores pools" in busy

    deadline = time.monotonic() + 30
    while True:  # the retry: the folder is free now
        again = subprocess.run([sys.executable, "-c", OPEN_WITH_HOOK], env=env, capture_output=True, text=True).stdout
        if again.startswith("OPENED") or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert again.strip() == "OPENED 1", again
