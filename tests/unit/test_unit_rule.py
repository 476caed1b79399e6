"""The rule of tests/unit/ is enforced, not only written down (tests/unit_rule.py): here, outside I/O fails at once."""

from __future__ import annotations

import socket
import subprocess

import clickhouse_connect
import pytest


def test_io_is_refused_under_tests_unit(tmp_path):
    with pytest.raises(AssertionError, match="may not open a network connection"):
        socket.create_connection(("127.0.0.1", 9), timeout=1)
    with pytest.raises(AssertionError, match="may not open chDB or a ClickHouse client"):
        clickhouse_connect.get_client(dsn=f"chdb://{tmp_path}")
    with pytest.raises(AssertionError, match="may not start a child process"):
        subprocess.run(["true"], check=False)
    (tmp_path / "ok.txt").write_text("temp files are fine")
