"""Per-process scratch directories that are cleaned up even after a kill -9.

Several processes share a parent directory (API processes spooling uploads, OCR workers
writing page images). Each claims its own subdirectory and holds an exclusive ``flock`` on
a lock file inside it for as long as it lives; the kernel releases the lock when the
process dies, however it dies. At start every process sweeps the siblings whose lock is
free: what a killed process left behind, never what a living one is using.
"""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
import time
import uuid
from pathlib import Path

log = logging.getLogger(__name__)

_LOCK_FILE = ".owner.lock"
_CLAIMING_GRACE_S = 60.0  # a directory without a lock file may be being claimed right now


class WorkDir:
    """A directory this process owns until ``release`` (or its death)."""

    def __init__(self, parent: Path) -> None:
        parent.mkdir(parents=True, exist_ok=True)
        self.removed = sweep_stale(parent)
        self.path = parent / f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.path.mkdir()
        self._lock = os.open(self.path / _LOCK_FILE, os.O_CREAT | os.O_RDWR, 0o600)
        fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)

    def release(self) -> None:
        if self._lock < 0:
            return
        shutil.rmtree(self.path, ignore_errors=True)
        os.close(self._lock)
        self._lock = -1


def sweep_stale(parent: Path) -> list[Path]:
    """Remove the subdirectories of ``parent`` whose owner is gone; return them."""
    removed = []
    for child in sorted(parent.iterdir()) if parent.is_dir() else []:
        if child.is_dir() and not _owned(child):
            shutil.rmtree(child, ignore_errors=True)
            removed.append(child)
    if removed:
        log.info("removed %d stale work directories under %s", len(removed), parent)
    return removed


def _owned(directory: Path) -> bool:
    """Whether a living process holds the directory's lock."""
    try:
        fd = os.open(directory / _LOCK_FILE, os.O_RDWR)
    except FileNotFoundError:  # never claimed, half-removed, or being claimed this moment
        return time.time() - directory.stat().st_mtime < _CLAIMING_GRACE_S
    except OSError:
        return True  # cannot tell: leave it alone
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # closing releases the probe's own lock
    return False


class WorkDirs:
    """The work directories of one process, claimed on first use, released together."""

    def __init__(self) -> None:
        self._claimed: dict[Path, WorkDir] = {}

    def claim(self, parent: Path) -> Path:
        if parent not in self._claimed:
            self._claimed[parent] = WorkDir(parent)
        return self._claimed[parent].path

    def release_all(self) -> None:
        for work_dir in self._claimed.values():
            work_dir.release()
        self._claimed.clear()
