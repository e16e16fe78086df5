"""The SQLite write lock's descriptors belong to their thread and go with it."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from liucun import sqlite_writelock


def _open_descriptors() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_a_thread_that_took_the_lock_closes_its_descriptor_when_it_ends(tmp_path: Path) -> None:
    database = str(tmp_path / "db.sqlite3")

    def write_once() -> None:
        assert sqlite_writelock._lock_fd(database) is not None

    before = _open_descriptors()
    for _ in range(20):
        thread = threading.Thread(target=write_once)
        thread.start()
        thread.join()
    assert _open_descriptors() - before < 2
