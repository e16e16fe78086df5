"""Running real Liucun processes against the test database (for tests that need real HTTP)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from django.db import connection

REPO = Path(__file__).resolve().parents[2]


def database_url_for_tests() -> str:
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    return f"postgres://{s['USER']}:{s['PASSWORD']}@{s['HOST']}:{s['PORT']}/{s['NAME']}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_server(
    *, workers: int = 2, threads: int = 4, env: dict[str, str] | None = None, start_within: float = 30
) -> Iterator[str]:
    """`liucun serve` (the production server command) on a free port, on the test database."""
    port = free_port()
    process_env = dict(
        os.environ,
        DATABASE_URL=database_url_for_tests(),
        LIUCUN_BIND=f"127.0.0.1:{port}",
        LIUCUN_LOG_LEVEL="WARNING",
        **(env or {}),
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "liucun.cli", "serve", "--workers", str(workers), "--threads", str(threads)],
        env=process_env,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + start_within
        while True:
            if process.poll() is not None:
                output = process.stdout.read().decode() if process.stdout else ""
                raise RuntimeError(f"liucun serve exited: {output[-2000:]}")
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"liucun serve did not come up within {start_within:.0f} s")
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


@contextmanager
def running_worker(env: dict[str, str] | None = None) -> Iterator[subprocess.Popen[bytes]]:
    """`liucun worker` (every queue, no periodic schedule) on the test database."""
    process_env = dict(
        os.environ, DATABASE_URL=database_url_for_tests(), LIUCUN_LOG_LEVEL="WARNING", **(env or {})
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "liucun.cli", "worker", "--no-schedule", "--interval", "0.2"],
        env=process_env,
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
