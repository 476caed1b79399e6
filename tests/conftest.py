"""Shared fixtures: a real Airflow (SQLite metadata DB), real chDB and the real emulator over HTTP.

The environment is set before anything imports Airflow. Every test that touches ClickHouse gets a
database of its own inside one chDB folder (chDB allows one data folder per process), so tests do
not see each other's tables.

Parallel runs (``make test``: pytest-xdist, ``-n 3 --dist loadgroup``): each worker is a process of
its own and imports this file, so each gets its own temp folder (chDB folder, ``AIRFLOW_HOME`` with
its SQLite metadata DB, rate-limit budgets) and binds its emulators to free ports. The metadata DB
is migrated once per run and copied to each worker (``airflow_db``). The real-scheduler tests run
first, together on one worker, while the other workers take the rest (``pytest_collection_modifyitems``).
"""

from __future__ import annotations

import atexit
import base64
import copy
import fcntl
import json
import os
import shutil
import sys
import tempfile
import threading
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")  # gw0, gw1, ... under pytest-xdist
_TMP = Path(tempfile.mkdtemp(prefix=f"clob-pipeline-tests-{_WORKER}-"))
atexit.register(shutil.rmtree, _TMP, ignore_errors=True)  # chDB folders are large: leave none behind
if _WORKER == "main":  # the controller (or a run without xdist): a folder its workers share, inherited by them
    os.environ["CLOB_PIPELINE_TEST_RUN_DIR"] = str(_TMP / "run")
os.environ.update(
    {
        "AIRFLOW_HOME": str(_TMP / "airflow"),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{_TMP / 'airflow' / 'airflow.db'}",  # this process's own
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "CLOB_PIPELINE_RETRIES": "1",
        "CLOB_PIPELINE_RETRY_DELAY_S": "1",
        "CLOB_PIPELINE_RATE_LIMIT_DIR": str(_TMP / "rate-limits"),  # this session's budgets only
    }
)
for path in (ROOT / "plugins", ROOT / "emulator"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from unit_rule import _pure_logic_only  # noqa: E402, F401 - an autouse fixture: tests/unit/ does no I/O

from polymarket_emulator import (  # noqa: E402
    DEMO_CLOB_ADDRESS,
    DEMO_CLOB_API_KEY,
    DEMO_CLOB_PASSPHRASE,
    DEMO_CLOB_SECRET,
    make_server,
)

CHDB_PATH = _TMP / "chdb"
ANCHOR_S = 1_790_000_000  # 2026-09-21: fixed, so data sets are identical run to run


_DATABASES: list[str] = []  # created by the running test; dropped after it


def use_new_database(monkeypatch: pytest.MonkeyPatch) -> str:
    """Point clickhouse_default at a fresh database name on chDB; it is dropped after the test."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    conn = {"conn_type": "clickhouse", "schema": name, "extra": {"chdb_path": str(CHDB_PATH)}}
    monkeypatch.setenv("AIRFLOW_CONN_CLICKHOUSE_DEFAULT", json.dumps(conn))
    _DATABASES.append(name)
    return name


def _drop_databases() -> None:
    """Drop the test's databases. Why: chDB loads every table of the folder each time an engine
    opens (every hook), so leftovers from earlier tests made later ones several times slower."""
    import clickhouse_connect

    names, _DATABASES[:] = list(_DATABASES), []
    client = clickhouse_connect.get_client(dsn=f"chdb://{CHDB_PATH}")
    try:
        for name in names:
            client.command("DROP DATABASE IF EXISTS {db:Identifier} SYNC", parameters={"db": name})
    finally:
        client.close()


@pytest.fixture()
def database(monkeypatch: pytest.MonkeyPatch):
    """A fresh ClickHouse database name, with clickhouse_default pointing at it on chDB."""
    yield use_new_database(monkeypatch)
    _drop_databases()


def point_connections(monkeypatch: pytest.MonkeyPatch, base_url: str, **extra: Any) -> None:
    """Aim the three Polymarket connections at an emulator (``extra`` = hook tuning extras)."""
    monkeypatch.setenv("AIRFLOW_CONN_POLYMARKET_DATA_API", json.dumps({"conn_type": "http", "host": base_url, "extra": extra}))
    monkeypatch.setenv("AIRFLOW_CONN_POLYMARKET_GAMMA", json.dumps({"conn_type": "http", "host": base_url, "extra": extra}))
    monkeypatch.setenv(
        "AIRFLOW_CONN_POLYMARKET_CLOB",
        json.dumps(
            {
                "conn_type": "http",
                "host": base_url,
                "login": DEMO_CLOB_ADDRESS,
                "password": DEMO_CLOB_SECRET,
                "extra": {"api_key": DEMO_CLOB_API_KEY, "api_passphrase": DEMO_CLOB_PASSPHRASE, **extra},
            }
        ),
    )


def use_wrong_clob_secret(monkeypatch, emulator) -> None:
    """The polymarket_clob connection with a well-formed secret that is not the key's: the CLOB answers 401."""
    wrong_secret = base64.urlsafe_b64encode(b"not the key owner's secret, 32b").decode()
    conn = {
        "conn_type": "http",
        "host": emulator.url,
        "login": DEMO_CLOB_ADDRESS,
        "password": wrong_secret,
        "extra": {"api_key": DEMO_CLOB_API_KEY, "api_passphrase": DEMO_CLOB_PASSPHRASE},
    }
    monkeypatch.setenv("AIRFLOW_CONN_POLYMARKET_CLOB", json.dumps(conn))


class Emulator:
    """A running emulator plus helpers to drive its control API."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("anchor_s", ANCHOR_S)
        self.server = make_server(**kwargs)
        self.server.start_in_thread()
        self.url = self.server.base_url
        self.dataset = self.server.state.dataset

    def post(self, path: str, body: Any) -> Any:
        request = urllib.request.Request(self.url + path, data=json.dumps(body).encode(), method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)

    def stats(self) -> dict[str, int]:
        with urllib.request.urlopen(self.url + "/__emulator/stats", timeout=10) as response:
            return json.load(response)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture()
def emulator_factory(monkeypatch: pytest.MonkeyPatch):
    """Start emulators with custom data sets; connections point at the last one started."""
    started: list[Emulator] = []

    def start(extra: dict[str, Any] | None = None, **kwargs: Any) -> Emulator:
        emu = Emulator(**kwargs)
        started.append(emu)
        point_connections(monkeypatch, emu.url, **(extra or {}))
        return emu

    yield start
    for emu in started:
        emu.stop()


@pytest.fixture()
def emulator(emulator_factory) -> Emulator:
    """The default small data set: 6 wallets (4 proxy-separated), 150 fills each, no rate limit."""
    return emulator_factory(wallets=6, proxy_users=4, fills_per_wallet=150, rate_scale=0)


@pytest.fixture(scope="session")
def airflow_db() -> None:
    """The migrated SQLite metadata DB dag.test() needs: migrated once per run, copied to each worker.

    The first worker to need it migrates its own DB and leaves a copy in the run's shared folder;
    the others copy that instead of migrating again (an exclusive lock orders them).
    """
    from airflow import settings
    from airflow.utils.db import initdb

    if _WORKER == "main" or "CLOB_PIPELINE_TEST_RUN_DIR" not in os.environ:
        initdb()
        return
    shared = Path(os.environ["CLOB_PIPELINE_TEST_RUN_DIR"])
    shared.mkdir(exist_ok=True)
    own = _TMP / "airflow" / "airflow.db"
    template = shared / "airflow.db"
    with open(shared / "airflow.db.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if template.exists():
            settings.dispose_orm()
            shutil.copyfile(template, own)
            settings.configure_orm()
        else:
            initdb()
            settings.engine.dispose()  # every change on disk before the copy
            shutil.copyfile(own, template.with_suffix(".tmp"))
            os.replace(template.with_suffix(".tmp"), template)


@pytest.fixture(scope="session")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(ROOT / "dags"))
    # dag.test() merges run_conf into the DAG object's params, and this session reuses the DAG
    # objects: keep the pristine defaults so every run starts from them.
    bag.param_defaults = {dag_id: copy.deepcopy(dag.params.dump()) for dag_id, dag in bag.dags.items()}
    return bag


@pytest.fixture()
def run_dag(airflow_db, dagbag):
    """Run a DAG for real with ``dag.test()``; returns the DagRun."""

    def run(dag_id: str, conf: dict[str, Any] | None = None):
        return dagbag.dags[dag_id].test(run_conf={**copy.deepcopy(dagbag.param_defaults[dag_id]), **(conf or {})})

    return run


@pytest.fixture()
def webhook(monkeypatch):
    """A local webhook receiver; ``alerts_webhook`` points at it."""
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    conn = {"conn_type": "http", "host": f"http://127.0.0.1:{server.server_port}/hook"}
    monkeypatch.setenv("AIRFLOW_CONN_ALERTS_WEBHOOK", json.dumps(conn))
    yield received
    server.shutdown()


def ch_rows(sql: str, parameters: dict[str, Any] | None = None) -> list[tuple]:
    """Query the test database through the bundle's hook (closed right after)."""
    from clob_pipeline.hooks.clickhouse import ClickHouseHook

    with ClickHouseHook() as ch:
        return ch.query_rows(sql, parameters)


SCHEDULER_TESTS = ROOT / "tests" / "scheduler"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The real-scheduler tests first: the longest unit of work, so the other workers overlap it."""
    first = [item for item in items if SCHEDULER_TESTS in Path(item.fspath).parents]
    items[:] = first + [item for item in items if item not in first]


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """``--dist loadgroup``, with every test under tests/scheduler/ in one group: they share one
    deployment (a module fixture: Postgres and Airflow processes), so one worker runs them all.

    Why not an ``xdist_group`` mark: pytest-xdist 3.8 groups by rewriting ``item._nodeid``, which
    pytest 9.2 no longer reads, so marked tests were spread over workers (two deployments at once).
    """
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadGroupScheduling

    class SchedulerTestsTogether(LoadGroupScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return "real_scheduler" if nodeid.startswith("tests/scheduler/") else super()._split_scope(nodeid)

    return SchedulerTestsTogether(config, log)
