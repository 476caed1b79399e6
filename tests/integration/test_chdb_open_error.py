"""Which error a failed chDB start becomes (hooks/chdb_lock.py): busy only while an engine holds the
lock on the folder's ``status`` file (as chDB does); otherwise chDB's own failure with what to check."""

from __future__ import annotations

import subprocess
import sys

from clob_pipeline.errors import is_retryable
from clob_pipeline.hooks.chdb_lock import ChdbFolderBusyError, ChdbStartError, open_error

GENERIC = RuntimeError("Error initializing EmbeddedServer: . (BAD_ARGUMENTS)")
# A stand-in engine: holds an exclusive flock on <folder>/status, as chDB's StatusFile does.
HOLD_LOCK = (
    "import fcntl, os, sys, time\n"
    "fd = os.open(sys.argv[1], os.O_RDWR)\n"
    "fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)\n"
    "print('locked', flush=True)\n"
    "time.sleep(30)\n"
)


def status_file(folder, pid: int) -> None:
    folder.mkdir(exist_ok=True)
    (folder / "status").write_text(f"PID: {pid}\nStarted at: 2026-11-25 10:00:00\nRevision: 1\n")


def hold(folder) -> subprocess.Popen:
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(folder / "status")], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "locked"
    return holder


def test_a_locked_status_file_makes_it_busy_naming_the_pid(tmp_path):
    status_file(tmp_path, 0)
    holder = hold(tmp_path)
    try:
        status_file(tmp_path, holder.pid)
        err = open_error(str(tmp_path), GENERIC)
        status_file(tmp_path, 4_000_000)  # a PID not visible here: an engine in another container on the volume
        elsewhere = open_error(str(tmp_path), GENERIC)
    finally:
        holder.kill()
        holder.wait()
    assert isinstance(err, ChdbFolderBusyError) and is_retryable(err)
    assert f"in use by PID {holder.pid}, engine started 2026-11-25 10:00:00" in str(err) and "1 slot" in str(err)
    assert isinstance(elsewhere, ChdbFolderBusyError) and "another host or container" in str(elsewhere)


def test_an_unlocked_or_missing_status_file_is_not_called_busy(tmp_path):
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        status_file(tmp_path, alive.pid)  # a live PID, but no engine holds the lock (e.g. a reused PID)
        err = open_error(str(tmp_path), GENERIC)
    finally:
        alive.kill()
        alive.wait()
    assert isinstance(err, ChdbStartError) and is_retryable(err)
    assert f"PID {alive.pid}" in str(err) and "no longer holds its lock" in str(err) and "BAD_ARGUMENTS" in str(err)
    assert "writable" in str(err) and "in use by" not in str(err)

    (tmp_path / "status").unlink()
    err = open_error(str(tmp_path), GENERIC)
    assert isinstance(err, ChdbStartError) and "no process (the folder has no status file)" in str(err)
