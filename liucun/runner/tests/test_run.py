"""`liucun run` as a newcomer sees it: the summary stays the last thing on the terminal, logs go to files."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from liucun.testing.live import REPO, free_port


def test_the_start_up_summary_stays_last_and_the_children_log_to_files(tmp_path: Path) -> None:
    port = free_port()
    env = dict(os.environ, LIUCUN_DATA_DIR=str(tmp_path), LIUCUN_LOG_LEVEL="INFO")
    env.pop("DATABASE_URL", None)  # the embedded default: SQLite under the data directory
    process = subprocess.Popen(
        [sys.executable, "-m", "liucun.cli", "run", "--no-demo", "--port", str(port)],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: list[str] = []
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + 120
        while not lines or lines[-1] != "Press Ctrl-C to stop.":
            assert time.monotonic() < deadline, f"no summary within 120 s: {lines}"
            line = process.stdout.readline()
            assert line or process.poll() is None, f"liucun run exited: {lines}"
            lines.append(line.rstrip("\n"))
        while True:  # a loaded machine may need longer than `liucun run` waits before its summary
            try:
                httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline, "the web server never answered"
                time.sleep(0.5)
        for _ in range(5):  # traffic that the web server logs
            assert httpx.get(f"http://127.0.0.1:{port}/login/", timeout=10).status_code == 200
    finally:
        process.send_signal(signal.SIGTERM)
        rest, errors = process.communicate(timeout=60)
    assert any(f"http://127.0.0.1:{port}/" in line for line in lines)
    assert any("console login: user admin" in line for line in lines)
    assert rest.strip() == "", "nothing printed after the summary"
    assert "Traceback" not in errors
    logs = tmp_path / "log"
    assert (logs / "web.log").stat().st_size > 0 and (logs / "worker.log").exists()
