"""A stand-in for callbacks during a rebuild on SQLite: how long would a callback have waited to write?

`python -m bench.reports.lockprobe DB OUT` writes one small row every INTERVAL seconds the way the callback
does (sqlite_writelock's flock on DB.writelock, then a write transaction), into a table of its own, until
it gets SIGTERM; then writes every wait (seconds from asking for the lock to the commit) to OUT as JSON.
A wait over LIUCUN_CALLBACK_COMMIT_TIMEOUT (3 s) is a callback answered 503 (WeChat retries twice more
within about 15 s). `probing(db)` runs it around a block and returns the waits.
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

INTERVAL = 0.1
CALLBACK_TIMEOUT = 3.0


def _probe(db: str, out: str) -> None:
    stop = False

    def _stop(_signum: int, _frame: Any) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, _stop)
    connection = sqlite3.connect(db, timeout=600, isolation_level=None)
    connection.execute("CREATE TABLE IF NOT EXISTS bench_lockprobe (at REAL)")
    lock = os.open(f"{db}.writelock", os.O_RDWR | os.O_CREAT, 0o600)
    waits: list[float] = []
    while not stop:
        asked = time.perf_counter()
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            connection.execute("BEGIN IMMEDIATE")
            connection.execute("INSERT INTO bench_lockprobe VALUES (?)", [time.time()])
            connection.execute("COMMIT")
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
        waits.append(time.perf_counter() - asked)
        time.sleep(INTERVAL)
    Path(out).write_text(json.dumps(waits))


@contextmanager
def probing(db: str) -> Iterator[list[float]]:
    """The waits of the probe while the block runs (filled in when it ends)."""
    waits: list[float] = []
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
        out = handle.name
    process = subprocess.Popen([sys.executable, "-m", "bench.reports.lockprobe", db, out])
    try:
        yield waits
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=900)
        text = Path(out).read_text()
        waits.extend(json.loads(text) if text else [])
        os.unlink(out)


def summary(waits: list[float]) -> dict[str, Any]:
    ordered = sorted(waits)
    if not ordered:
        return {"writes": 0}
    return {
        "writes": len(ordered),
        "p50_ms": ordered[len(ordered) // 2] * 1000,
        "p99_ms": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000,
        "max_ms": ordered[-1] * 1000,
        "over_callback_timeout": sum(w > CALLBACK_TIMEOUT for w in ordered),
    }


if __name__ == "__main__":
    _probe(sys.argv[1], sys.argv[2])
