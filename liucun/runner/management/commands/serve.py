"""`liucun serve`: the production web server (gunicorn, threaded workers)."""

from __future__ import annotations

import os
import sys
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run the production web server (gunicorn with threaded workers)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--bind", help="host:port (default LIUCUN_BIND or 127.0.0.1:8000)")
        parser.add_argument("--workers", type=int, help="worker processes (default LIUCUN_WEB_WORKERS)")
        parser.add_argument("--threads", type=int, help="threads per worker (default LIUCUN_WEB_THREADS)")

    def handle(self, *args: Any, **options: Any) -> None:
        argv = [sys.executable, "-m", "gunicorn", "--config", "python:liucun.runner.gunicorn_conf"]
        if options["bind"]:
            argv += ["--bind", options["bind"]]
        if options["workers"]:
            argv += ["--workers", str(options["workers"])]
        if options["threads"]:
            argv += ["--threads", str(options["threads"])]
        sys.stdout.flush()
        os.execv(sys.executable, argv)  # noqa: S606 - replaces this process with gunicorn
