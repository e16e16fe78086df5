"""The child processes of `liucun run`, each writing its own log file, so the terminal stays readable.

Web server, worker and simulator log a lot in normal operation (periodic ticks, the demo's expected
token refreshes, granian's start-up notes). Interleaved on one terminal they pushed the start-up summary
(the URL and the login) out of sight within seconds and made routine lines look like faults. Each child
now logs to var/log/<name>.log, and only lines that look like problems are echoed to the terminal.
"""

from __future__ import annotations

import re
import subprocess
import sys
import threading
from pathlib import Path
from typing import Protocol

from django.conf import settings


class Writer(Protocol):
    def write(self, text: str) -> object: ...

    def flush(self) -> None: ...


PROBLEM = re.compile(r"\b(ERROR|CRITICAL|Traceback)\b")


def log_dir() -> Path:
    path = Path(settings.DATA_DIR) / "log"
    path.mkdir(parents=True, exist_ok=True)
    return path


def spawn(name: str, argv: list[str], env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    """Start a child writing to var/log/<name>.log (appended: a restart keeps the earlier runs)."""
    log = (log_dir() / f"{name}.log").open("ab")
    process = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603 - our own commands
    log.close()  # the child holds its own descriptor
    return process


class ProblemEcho(threading.Thread):
    """Follows the log files from their current end and writes problem lines to `out`, prefixed with
    the process name, until stopped."""

    def __init__(self, names: list[str], out: Writer = sys.stderr, poll: float = 0.5) -> None:
        super().__init__(daemon=True, name="log-echo")
        self.names, self.out, self.poll = names, out, poll
        self.stopped = threading.Event()
        self.offsets = {name: self._size(name) for name in names}

    def _size(self, name: str) -> int:
        path = log_dir() / f"{name}.log"
        return path.stat().st_size if path.exists() else 0

    def run(self) -> None:
        while not self.stopped.is_set():
            self.echo_new_lines()
            self.stopped.wait(self.poll)

    def echo_new_lines(self) -> None:
        for name in self.names:
            path = log_dir() / f"{name}.log"
            if not path.exists():
                continue
            with path.open("rb") as handle:
                handle.seek(self.offsets[name])
                chunk = handle.read()
            complete = chunk[: chunk.rfind(b"\n") + 1]
            self.offsets[name] += len(complete)
            for line in complete.decode("utf-8", "replace").splitlines():
                if PROBLEM.search(line):
                    self.out.write(f"[{name}] {line}\n")
            self.out.flush()

    def stop(self) -> None:
        self.stopped.set()
        self.join(timeout=5)
        self.echo_new_lines()
