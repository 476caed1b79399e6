"""Embedded chDB allows one process per data folder. When a second process opens a folder in use,
clickhouse-connect only says "Error initializing EmbeddedServer: . (BAD_ARGUMENTS)" (chDB prints
"Cannot lock file <folder>/status. Another server instance in same directory is already running"
to stderr). This module turns that into an error on-call can act on: who holds the folder (the
``status`` file the running engine keeps names its PID), the rule, and the fix.

The error stays retryable: the holder finishes, the folder frees, and Airflow's retry succeeds.
"""

from __future__ import annotations

import fcntl
import os
import re
from pathlib import Path

_LOCK_TEXT = re.compile(r"Error initializing EmbeddedServer|Cannot lock file .*status|Another server instance in same directory")

RULE_AND_FIX = (
    "Embedded chDB allows one process per data folder, so every task that opens ClickHouse runs in the "
    "`clickhouse` pool, which must have 1 slot with chDB (`airflow pools set clickhouse 1 \"...\"`; check it in "
    "Admin -> Pools). `airflow dags test` ignores pools: do not run it, a second `dags test`, a test suite or a "
    "script on the same folder while the scheduler or another run uses it. This task is retried and succeeds "
    "once the folder is free; if the holder is stuck, stop it. With several writers, use a ClickHouse server."
)


class ChdbFolderBusyError(RuntimeError):
    """Another process holds the embedded chDB folder (retryable: it frees when that process ends)."""


class ChdbStartError(RuntimeError):
    """chDB did not start on a folder no engine holds (retryable; the message says what to check)."""


def is_chdb_lock_error(exc: BaseException) -> bool:
    return bool(_LOCK_TEXT.search(str(exc)))


def describe_holder(folder: str) -> tuple[bool, str]:
    """``(held, who)`` for ``folder``; best effort, never raises. ``held`` comes from the lock the
    running engine keeps on its ``status`` file (a flock, so it holds across containers sharing the
    volume); ``who`` from the PID the file names and ``/proc``."""
    status_path = Path(folder) / "status"
    try:
        status = status_path.read_text(errors="replace")
    except OSError:
        return False, "no process (the folder has no status file)"
    match = re.search(r"PID:\s*(\d+)", status)
    started = re.search(r"Started at:\s*(.+)", status)
    pid = int(match.group(1)) if match else None
    since = f", engine started {started.group(1).strip()}" if started else ""
    if _status_locked(status_path) is False:
        return False, f"no process (its status file names PID {pid}{since}, which no longer holds its lock)"
    if pid is None:
        return True, "an unknown process (its status file names no PID)"
    if pid == os.getpid():
        return True, f"this same process (PID {pid}{since})"
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return True, f"PID {pid}{since} (not visible from here: another host or container, or it has just ended)"
    return True, f"PID {pid}{since}: {cmdline[:300]}"


def _status_locked(path: Path) -> bool | None:
    """Whether an engine holds its lock on ``path`` (None: cannot tell). Takes a shared lock for an
    instant only, and only after an open already failed."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return None
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


def open_error(folder: str, cause: BaseException) -> RuntimeError:
    """What to raise when chDB did not start on ``folder``. Its generic "Error initializing
    EmbeddedServer" also covers a damaged folder, permissions or a full disk, so the folder is called
    busy only while an engine holds the lock on its ``status`` file."""
    held, who = describe_holder(folder)
    if held:
        return ChdbFolderBusyError(
            f"cannot open embedded chDB at {folder}: it is in use by {who}. {RULE_AND_FIX} (chDB said: {str(cause)[:200]})"
        )
    return ChdbStartError(
        f"embedded chDB did not start at {folder}, and {who} holds it: chDB said {str(cause)[:300]!r}. "
        "Check that the folder is writable by the Airflow user and its disk is not full, and read chDB's own "
        "messages in this task's log above; the task is retried in case the holder had only just ended."
    )
