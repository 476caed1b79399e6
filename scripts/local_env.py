"""The embedded-default environment shared by ``make demo`` and ``make bench``.

Project-local AIRFLOW_HOME with SQLite, chDB under ``.data/``, the emulator as a subprocess, and
the Airflow Connections pointed at both through ``AIRFLOW_CONN_*`` variables.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
sys.path[:0] = [str(ROOT / "plugins"), str(ROOT / "emulator")]

from polymarket_emulator import (  # noqa: E402
    DEMO_CLOB_ADDRESS,
    DEMO_CLOB_API_KEY,
    DEMO_CLOB_PASSPHRASE,
    DEMO_CLOB_SECRET,
)


def airflow_env(airflow_home: Path, chdb_path: Path, emulator_url: str, database: str = "polymarket") -> dict[str, str]:
    """Environment for Airflow processes: paths, SQLite metadata DB and every connection."""
    env = dict(os.environ)
    env.update(
        {
            "AIRFLOW_HOME": str(airflow_home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
            "PYTHONPATH": os.pathsep.join([str(ROOT / "plugins"), env.get("PYTHONPATH", "")]).rstrip(os.pathsep),
            "AIRFLOW_CONN_CLICKHOUSE_DEFAULT": json.dumps(
                {"conn_type": "clickhouse", "schema": database, "extra": {"chdb_path": str(chdb_path)}}
            ),
            "AIRFLOW_CONN_POLYMARKET_DATA_API": json.dumps({"conn_type": "http", "host": emulator_url}),
            "AIRFLOW_CONN_POLYMARKET_GAMMA": json.dumps({"conn_type": "http", "host": emulator_url}),
            # the emulator's Polygon JSON-RPC (issue #20: source=chain, clob_reconcile, the promotion's check)
            "AIRFLOW_CONN_POLYGON_RPC": json.dumps(
                {"conn_type": "http", "host": f"{emulator_url}/rpc", "extra": {"rate_limit_requests": 2000}}
            ),
            "AIRFLOW_CONN_POLYMARKET_CLOB": json.dumps(
                {
                    "conn_type": "http",
                    "host": emulator_url,
                    "login": DEMO_CLOB_ADDRESS,
                    "password": DEMO_CLOB_SECRET,
                    "extra": {"api_key": DEMO_CLOB_API_KEY, "api_passphrase": DEMO_CLOB_PASSPHRASE},
                }
            ),
        }
    )
    return env


def run(cmd: list[str], env: dict[str, str], quiet: bool = False) -> subprocess.CompletedProcess:
    print("$", " ".join(cmd), flush=True)
    result = subprocess.run(cmd, env=env, text=True, capture_output=quiet)
    if result.returncode != 0:
        if quiet:
            print(result.stdout[-4000:], result.stderr[-4000:])
        raise SystemExit(f"command failed ({result.returncode}): {' '.join(cmd)}")
    return result


def prepare_airflow(env: dict[str, str]) -> None:
    """Migrate the SQLite metadata DB and create the pool the DAGs use (idempotent)."""
    run([str(BIN / "airflow"), "db", "migrate"], env, quiet=True)
    run([str(BIN / "airflow"), "pools", "set", "clickhouse", "1", "ClickHouse writers (1 slot: embedded chDB)"], env, quiet=True)


@contextmanager
def emulator(data_dir: Path, **options: Any):
    """Run ``python -m polymarket_emulator`` and yield its base URL; stop it afterwards."""
    data_dir.mkdir(parents=True, exist_ok=True)
    url_file = data_dir / "emulator.url"
    url_file.unlink(missing_ok=True)
    args = [sys.executable, "-m", "polymarket_emulator", "--url-file", str(url_file)]
    for key, value in options.items():
        args += [f"--{key.replace('_', '-')}", str(value)]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "emulator"), str(ROOT / "plugins")]))
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while not url_file.exists() or not url_file.read_text():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("the emulator did not start; run `python -m polymarket_emulator` to see why")
            time.sleep(0.1)
        yield url_file.read_text()
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def emulator_get(url: str, path: str) -> Any:
    with urllib.request.urlopen(url + path, timeout=10) as response:
        return json.load(response)
