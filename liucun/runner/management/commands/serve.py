"""`liucun serve`: the production web server (granian, WSGI, several workers with blocking threads)."""

from __future__ import annotations

import os
import sys
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from liucun.envvars import env_bool, env_int, env_str


def _split_bind(bind: str) -> tuple[str, str]:
    host, _, port = bind.rpartition(":")
    if not host or not port.isdigit():
        raise CommandError(f"--bind/LIUCUN_BIND must be host:port, not {bind!r}")
    return host.strip("[]"), port


class Command(BaseCommand):
    help = "Run the production web server (granian) on the WSGI application."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--bind", help="host:port (default LIUCUN_BIND or 127.0.0.1:8000)")
        parser.add_argument("--workers", type=int, help="worker processes (default LIUCUN_WEB_WORKERS)")
        parser.add_argument("--threads", type=int, help="threads per worker (default LIUCUN_WEB_THREADS)")

    def handle(self, *args: Any, **options: Any) -> None:
        host, port = _split_bind(options["bind"] or env_str("LIUCUN_BIND", "127.0.0.1:8000"))
        workers = options["workers"] or env_int("LIUCUN_WEB_WORKERS", max(2, os.cpu_count() or 1), minimum=1)
        # Many threads per worker: a callback waiting for its group commit holds a thread, and the more
        # deliveries wait together the more of them share one commit (docs/performance.md).
        threads = options["threads"] or env_int("LIUCUN_WEB_THREADS", 32, minimum=1, maximum=512)
        argv = [
            sys.executable,
            "-m",
            "granian",
            "--interface",
            "wsgi",
            "--host",
            host,
            "--port",
            port,
            "--workers",
            str(workers),
            "--blocking-threads",
            str(threads),
            # A worker that dies (killed by the kernel or an operator) is replaced; WeChat's retries and
            # the event store's dedupe make its in-flight deliveries safe to repeat.
            "--respawn-failed-workers",
            "--no-ws",
            "--log-level",
            env_str("LIUCUN_LOG_LEVEL", "info").lower(),
        ]
        if env_bool("LIUCUN_ACCESS_LOG", False):
            argv.append("--access-log")
        argv.append("liucun.wsgi:application")
        sys.stdout.flush()
        os.execv(sys.executable, argv)  # noqa: S606 - replaces this process with the server
