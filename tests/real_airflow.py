"""A throwaway real Airflow deployment for tests: a private Postgres cluster (Debian's ``postgresql``
binaries) as the metadata DB, and Airflow's api-server, scheduler and dag-processor as separate
processes with the LocalExecutor, driven through the REST API (``/api/v2``, SimpleAuthManager token).

The emulator runs in a thread of the test process (its data set is the expected truth); chDB is
read through a subprocess, because a test process may already hold another chDB folder.
"""

from __future__ import annotations

import glob
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from datetime import datetime
from pathlib import Path
from typing import Any

from conftest import ROOT, Emulator
from local_env import airflow_env

AIRFLOW = str(Path(sys.executable).parent / "airflow")
TERMINAL = {"success", "failed"}


def postgres_bin_dir() -> Path | None:
    """Newest ``/usr/lib/postgresql/<major>/bin`` holding initdb, if the server package is installed."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    return Path(found[-1]).parent if found else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_postgres_user() -> list[str]:
    """Postgres refuses to run as root: run its commands as the package's ``postgres`` user then."""
    return [shutil.which("runuser") or "/usr/sbin/runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


class PrivateCluster:
    """initdb + pg_ctl on a temp folder and a free TCP port on 127.0.0.1; trust auth, user ``airflow``."""

    def __init__(self, root: Path) -> None:
        self.bin = postgres_bin_dir()
        self.data = root / "pgdata"
        self.port = free_port()
        self.log = root / "postgres.log"

    def start(self) -> str:
        run_as = _as_postgres_user()
        self.data.parent.chmod(0o777)
        if run_as:
            shutil.chown(self.data.parent, "postgres")
        self._run([*run_as, str(self.bin / "initdb"), "-D", str(self.data), "-U", "airflow", "--auth=trust", "-E", "UTF8"])
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.data} -c fsync=off -c full_page_writes=off"
        self._run([*run_as, str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start"])
        import psycopg2

        conn = psycopg2.connect(host="127.0.0.1", port=self.port, user="airflow", dbname="postgres")
        conn.autocommit = True
        conn.cursor().execute("CREATE DATABASE airflow")
        conn.close()
        return f"postgresql+psycopg2://airflow@127.0.0.1:{self.port}/airflow"

    def _run(self, args: list[str]) -> None:
        # cwd: the postgres user may not be allowed into the checkout's folder
        result = subprocess.run(args, capture_output=True, text=True, cwd=self.data.parent)
        if result.returncode:
            log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise AssertionError(f"{' '.join(args)} failed ({result.returncode}):\n{result.stdout}{result.stderr}{log}")

    def stop(self) -> None:
        subprocess.run(
            [*_as_postgres_user(), str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"],
            capture_output=True,
            cwd=self.data.parent,
        )


def chdb_query(env: dict[str, str], sql: str, parameters: dict[str, Any] | None = None) -> list[list[Any]]:
    """Rows of one query on the deployment's chDB folder, in a subprocess (closed when it exits)."""
    return _chdb(env, [["query", sql, parameters or {}]])[0]


def _chdb(env: dict[str, str], ops: list[list[Any]]) -> list[Any]:
    code = (
        "import json, sys\n"
        "from clob_pipeline.hooks.clickhouse import ClickHouseHook\n"
        "out = []\n"
        "with ClickHouseHook() as ch:\n"
        "    for kind, what, params in json.loads(sys.argv[1]):\n"
        "        if kind == 'file':\n"
        "            out.append(ch.run_sql_file(what, params))\n"
        "        else:\n"
        "            out.append([list(r) for r in ch.query_rows(what, params)])\n"
        "print(json.dumps(out, default=str))\n"
    )
    result = subprocess.run([sys.executable, "-c", code, json.dumps(ops)], env=env, capture_output=True, text=True)
    if result.returncode:
        raise AssertionError(f"chDB subprocess failed: {result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


class RealAirflow:
    """The deployment as a context manager; ``setup_s`` is what starting it took."""

    def __init__(self, wallets: int, fills_per_wallet: int) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="clob-real-airflow-"))
        self.emulator = Emulator(wallets=wallets, fills_per_wallet=fills_per_wallet, rate_scale=0)
        self.postgres = PrivateCluster(self.root)
        self.api_url = f"http://127.0.0.1:{free_port()}"
        self.procs: list[subprocess.Popen] = []
        self.setup_s = 0.0
        self._token: str | None = None

    # --- lifecycle -------------------------------------------------------------------------------
    def __enter__(self) -> RealAirflow:
        started = time.monotonic()
        try:
            self._start()
        except BaseException:
            self.__exit__()
            raise
        self.setup_s = time.monotonic() - started
        return self

    def _start(self) -> None:
        sql_alchemy_conn = self.postgres.start()
        password = secrets.token_hex(8)
        (self.root / "passwords.json").write_text(json.dumps({"admin": password}))
        self._password = password
        port = self.api_url.rsplit(":", 1)[1]
        self.env = airflow_env(self.root / "airflow", self.root / "chdb", self.emulator.url)
        for name in list(self.env):  # nothing of the pytest session's own Airflow leaks in
            if name.startswith("AIRFLOW_CONN_ALERTS"):
                del self.env[name]
        self.env.update(
            {
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": sql_alchemy_conn,
                "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
                "AIRFLOW__CORE__PARALLELISM": "4",
                "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.api_url}/execution/",
                "AIRFLOW__API__BASE_URL": self.api_url,
                "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(32),
                "AIRFLOW__API__SECRET_KEY": secrets.token_hex(16),
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(self.root / "passwords.json"),
                "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
                "AIRFLOW__SCHEDULER__PARSING_CLEANUP_INTERVAL": "600",
                "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "600",
                "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(self.root / "logs"),
                "CLOB_PIPELINE_RETRIES": "1",
                "CLOB_PIPELINE_RETRY_DELAY_S": "2",
            }
        )
        self._cli("db", "migrate")
        self._cli("pools", "set", "clickhouse", "1", "ClickHouse writers (1 slot: embedded chDB)")
        self._seed_wallet_metrics()
        self._spawn("api-server", "api-server", "-p", port, "-H", "127.0.0.1", "-w", "1")
        self._spawn("scheduler", "scheduler")
        self._spawn("dag-processor", "dag-processor")
        self._wait_for_api()

    def __exit__(self, *exc: object) -> None:
        for proc in reversed(self.procs):
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.postgres.stop()
        self.emulator.stop()
        if not os.environ.get("CLOB_PIPELINE_KEEP_SCHEDULER_TEST_FILES"):
            shutil.rmtree(self.root, ignore_errors=True)

    def _cli(self, *args: str) -> None:
        result = subprocess.run([AIRFLOW, *args], env=self.env, capture_output=True, text=True)
        if result.returncode:
            raise AssertionError(f"airflow {' '.join(args)} failed:\n{result.stdout[-2000:]}\n{result.stderr[-4000:]}")

    def _spawn(self, name: str, *args: str) -> None:
        log = open(self.root / f"{name}.log", "w")  # noqa: SIM115 - closed with the process
        self.procs.append(subprocess.Popen([AIRFLOW, *args], env=self.env, stdout=log, stderr=subprocess.STDOUT))

    def _seed_wallet_metrics(self) -> None:
        """The emulated users' volumes in ``wallet_metrics``, as ``make demo`` seeds them."""
        eoas = [u.user_eoa for u in self.emulator.dataset.users]
        volumes = [25_000.0 + 1000 * i for i in range(len(eoas))]
        _chdb(
            self.env,
            [
                ["file", "schema/database.sql", {}],
                ["file", "schema/state_tables.sql", {}],
                ["file", "demo/seed_wallet_metrics.sql", {"wallets": eoas, "volumes": volumes}],
            ],
        )

    def _wait_for_api(self, timeout_s: float = 180) -> None:
        deadline = time.monotonic() + timeout_s
        while True:
            self._check_alive()
            try:
                with urllib.request.urlopen(f"{self.api_url}/api/v2/version", timeout=5):
                    return
            except (urllib.error.URLError, ConnectionError):
                if time.monotonic() > deadline:
                    raise AssertionError(f"the api-server did not answer in {timeout_s}s:\n{self._tail('api-server')}") from None
                time.sleep(1)

    def _check_alive(self) -> None:
        for proc in self.procs:
            if proc.poll() is not None:
                name = Path(proc.args[1]).name
                raise AssertionError(f"airflow {name} exited with {proc.returncode}:\n{self._tail(name)}")

    def _tail(self, name: str, chars: int = 4000) -> str:
        path = self.root / f"{name}.log"
        return path.read_text(errors="replace")[-chars:] if path.exists() else "(no log)"

    def scheduler_log(self) -> str:
        return (self.root / "scheduler.log").read_text(errors="replace")

    # --- REST API --------------------------------------------------------------------------------
    def _request(self, method: str, path: str, body: Any = None) -> Any:
        headers = {"Content-Type": "application/json"}
        if not path.startswith("/auth/"):
            headers["Authorization"] = f"Bearer {self._get_token()}"
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.api_url + path, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return json.load(response)
        except urllib.error.HTTPError as err:
            raise AssertionError(f"{method} {path} -> {err.code}: {err.read()[:2000]!r}") from None

    def _get_token(self) -> str:
        if self._token is None:
            answer = self._request("POST", "/auth/token", {"username": "admin", "password": self._password})
            self._token = answer["access_token"]
        return self._token

    def pool(self, name: str) -> dict[str, Any]:
        return self._request("GET", f"/api/v2/pools/{name}")

    def wait_for_dag(self, dag_id: str, timeout_s: float = 180) -> None:
        """Until the dag-processor has parsed and serialised ``dag_id``."""
        deadline = time.monotonic() + timeout_s
        while True:
            self._check_alive()
            try:
                self._request("GET", f"/api/v2/dags/{dag_id}/details")
                return
            except AssertionError:
                if time.monotonic() > deadline:
                    raise AssertionError(f"{dag_id} was not parsed in {timeout_s}s:\n{self._tail('dag-processor')}") from None
                time.sleep(1)

    def trigger(self, dag_id: str, conf: dict[str, Any]) -> str:
        """Unpause and trigger through REST with ``conf``; returns the run id."""
        self.wait_for_dag(dag_id)
        self._request("PATCH", f"/api/v2/dags/{dag_id}", {"is_paused": False})
        return self._request("POST", f"/api/v2/dags/{dag_id}/dagRuns", {"logical_date": None, "conf": conf})["dag_run_id"]

    def wait(self, dag_id: str, run_id: str, timeout_s: float = 600) -> dict[str, Any]:
        """Wait for the run to end, then pause the DAG again."""
        deadline = time.monotonic() + timeout_s
        while (run := self._request("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}"))["state"] not in TERMINAL:
            self._check_alive()
            if time.monotonic() > deadline:
                raise AssertionError(f"{dag_id} {run_id} still {run['state']} after {timeout_s}s: {self.explain(dag_id, run_id)}")
            time.sleep(1)
        self._request("PATCH", f"/api/v2/dags/{dag_id}", {"is_paused": True})
        return run

    def trigger_and_wait(self, dag_id: str, conf: dict[str, Any], timeout_s: float = 600) -> dict[str, Any]:
        return self.wait(dag_id, self.trigger(dag_id, conf), timeout_s)

    def wait_for_task(self, dag_id: str, run_id: str, task_id: str, state: str, timeout_s: float = 300) -> None:
        deadline = time.monotonic() + timeout_s
        while (task_id, state) not in self.task_states(dag_id, run_id):
            self._check_alive()
            if time.monotonic() > deadline:
                raise AssertionError(f"{task_id} not {state} after {timeout_s}s: {self.explain(dag_id, run_id)}")
            time.sleep(0.1)

    def set_pool_slots(self, name: str, slots: int) -> None:
        body = {"pool": name, "slots": slots, "include_deferred": False}
        self._request("PATCH", f"/api/v2/pools/{name}?update_mask=slots", body)

    def mark_run(self, dag_id: str, run_id: str, state: str) -> None:
        """What on-call's "Mark run as failed" button does (PATCH the run's state)."""
        self._request("PATCH", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}", {"state": state})

    def wait_until_asked(self, dag_id: str, run_id: str, task_id: str, timeout_s: float = 300) -> None:
        """Until ``task_id`` waits for a person, and its worker has exited. An answer sent while the worker
        that parked the task is still winding down (~1-6 s here) races it on Airflow 3.3.2: the task
        resumes at once, then the executor's late "success" event for the parking workload makes the
        scheduler put the resumed task up for retry, and it asks again. A person is slower than that."""
        self.wait_for_task(dag_id, run_id, task_id, "awaiting_input", timeout_s)
        parked = f"TaskInstance Finished: dag_id={dag_id}, task_id={task_id}, run_id={run_id}, "
        deadline = time.monotonic() + timeout_s
        while not any(parked in line and "state=awaiting_input" in line for line in self.scheduler_log().splitlines()):
            self._check_alive()
            if time.monotonic() > deadline:
                raise AssertionError(f"the scheduler did not see {task_id}'s worker exit in {timeout_s}s")
            time.sleep(0.2)

    def hitl_detail(self, dag_id: str, run_id: str, task_id: str) -> dict[str, Any]:
        """The human-in-the-loop request of a task (what its Required actions page shows)."""
        return self._request("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/-1/hitlDetails")

    def respond(self, dag_id: str, run_id: str, task_id: str, option: str) -> dict[str, Any]:
        """What on-call's Approve / Reject button on the Required actions page sends."""
        body = {"chosen_options": [option], "params_input": {}}
        return self._request("PATCH", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/-1/hitlDetails", body)

    def xcom(self, dag_id: str, run_id: str, task_id: str, key: str = "return_value") -> Any:
        entry = self._request("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/xcomEntries/{key}")
        value = entry["value"]
        return json.loads(value) if isinstance(value, str) else value

    def ui_token(self) -> str:
        """The JWT the UI keeps in its ``_token`` cookie after a login."""
        return self._get_token()

    def task_instances(self, dag_id: str = "~", run_id: str = "~") -> list[dict[str, Any]]:
        return self._request("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances?limit=1000")["task_instances"]

    def task_states(self, dag_id: str, run_id: str) -> list[tuple[str, str]]:
        return [(ti["task_id"], ti["state"]) for ti in self.task_instances(dag_id, run_id)]

    def explain(self, dag_id: str, run_id: str) -> str:
        """Task states of a run and the failed tasks' log tails, for an assertion message."""
        lines = [f"{dag_id} {run_id}: {self.task_states(dag_id, run_id)}"]
        for log in sorted((self.root / "logs").rglob("*.log")):
            if f"run_id={run_id}" in str(log) and ("ERROR" in (text := log.read_text(errors="replace"))):
                lines.append(f"--- {log.relative_to(self.root)}\n{text[-3000:]}")
        return "\n".join(lines)

    def task_log(self, run_id: str, task_id: str) -> str:
        """Every try's log of ``task_id`` in ``run_id``, as the task wrote it."""
        logs = sorted(
            p for p in (self.root / "logs").rglob("*.log") if f"run_id={run_id}" in str(p) and f"task_id={task_id}" in str(p)
        )
        return "\n".join(p.read_text(errors="replace") for p in logs)

    def max_concurrent_pool_tasks(self, pool: str) -> int:
        """Most task instances of ``pool`` that ever ran at the same time (from their start/end dates)."""
        events: list[tuple[datetime, int]] = []
        for ti in self.task_instances():
            if ti["pool"] == pool and ti["start_date"] and ti["end_date"]:
                events.append((datetime.fromisoformat(ti["start_date"]), 1))
                events.append((datetime.fromisoformat(ti["end_date"]), -1))
        running = peak = 0
        for _, delta in sorted(events, key=lambda e: (e[0], e[1])):  # an end before a start at the same instant
            running += delta
            peak = max(peak, running)
        return peak

    def expected_fills(self) -> int:
        """Every fill the emulator serves (lookback ``all``), counted as the fills table stores them."""
        return sum(len(list(self.emulator.dataset.visible_fills(w))) for w in self.emulator.dataset.wallets)


__all__ = ["ROOT", "RealAirflow", "chdb_query", "postgres_bin_dir"]
