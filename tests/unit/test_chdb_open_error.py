"""Which error a failed chDB start becomes (hooks/chdb_lock.py): busy only while a live process can
hold the folder; otherwise chDB's own failure with what to check."""

from __future__ import annotations

import subprocess
import sys

from clob_pipeline.errors import is_retryable
from clob_pipeline.hooks.chdb_lock import ChdbFolderBusyError, ChdbStartError, open_error

GENERIC = RuntimeError("Error initializing EmbeddedServer: . (BAD_ARGUMENTS)")


def status_file(folder, pid: int) -> None:
    folder.mkdir(exist_ok=True)
    (folder / "status").write_text(f"PID: {pid}\nStarted at: 2026-11-25 10:00:00\nRevision: 1\n")


def test_a_live_holder_makes_it_busy_naming_the_pid(tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        status_file(tmp_path, holder.pid)
        err = open_error(str(tmp_path), GENERIC)
    finally:
        holder.kill()
        holder.wait()
    assert isinstance(err, ChdbFolderBusyError) and is_retryable(err)
    assert f"in use by PID {holder.pid}, engine started 2026-11-25 10:00:00" in str(err) and "1 slot" in str(err)


def test_a_holder_that_has_ended_or_no_status_file_is_not_called_busy(tmp_path):
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    status_file(tmp_path, ended.pid)
    err = open_error(str(tmp_path), GENERIC)
    assert isinstance(err, ChdbStartError) and is_retryable(err)
    assert f"PID {ended.pid}" in str(err) and "which has ended" in str(err) and "BAD_ARGUMENTS" in str(err)
    assert "writable" in str(err) and "in use by" not in str(err)

    (tmp_path / "status").unlink()
    err = open_error(str(tmp_path), GENERIC)
    assert isinstance(err, ChdbStartError) and "no process (the folder has no status file)" in str(err)
