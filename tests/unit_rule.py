"""The rule of ``tests/unit/``: pure logic, checked (``tests/conftest.py`` applies this fixture) rather
than only written down.

A unit test opens no chDB or ClickHouse client, makes no network connection, starts no child
process and runs no DAG (Airflow is a library here: DAGs may be parsed, no metadata DB). Temp files are
fine. A test that needs any of these belongs in ``tests/integration/`` (chDB, HTTP, processes) or
``tests/dags/`` (DAG runs); here it fails at once, naming what it tried.
"""

from __future__ import annotations

import multiprocessing.process
import socket
import subprocess
from pathlib import Path

import pytest

UNIT_TESTS = Path(__file__).resolve().parent / "unit"
OUTSIDE_FIXTURES = frozenset({"database", "emulator", "emulator_factory", "run_dag", "airflow_db", "webhook"})


def _refuse(what: str):
    def refused(*args, **kwargs):
        raise AssertionError(f"a unit test may not {what} (tests/unit_rule.py): move it to tests/integration/")

    return refused


@pytest.fixture(autouse=True)
def _pure_logic_only(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Under tests/unit/ only: fail a test that asks for an outside fixture or tries any of the above."""
    if UNIT_TESTS not in Path(request.node.fspath).parents:
        return
    used = sorted(OUTSIDE_FIXTURES & set(request.fixturenames))
    if used:
        pytest.fail(f"a unit test may not use {used} (tests/unit_rule.py): move it to tests/integration/ or tests/dags/")
    import clickhouse_connect

    monkeypatch.setattr(clickhouse_connect, "get_client", _refuse("open chDB or a ClickHouse client"))
    monkeypatch.setattr(socket.socket, "connect", _refuse("open a network connection"))
    monkeypatch.setattr(subprocess.Popen, "__init__", _refuse("start a child process"))
    monkeypatch.setattr(multiprocessing.process.BaseProcess, "start", _refuse("start a child process"))
