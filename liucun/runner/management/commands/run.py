"""`liucun run`: everything a newcomer needs on one machine, on the embedded default.

Migrates the SQLite database, makes sure there is an admin login, starts the web server and the worker
(and the simulator with a demo account when it is available), prints where to go, and stops them all on
Ctrl-C. Production runs `liucun serve` and `liucun worker` separately.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand

from liucun.runner.demo import DemoSetup, prepare_demo
from liucun.runner.processes import ProblemEcho, log_dir, spawn


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


class Command(BaseCommand):
    help = "Run Liucun locally: web server, worker and a simulator-backed demo account."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--port", type=int, default=int(os.environ.get("LIUCUN_PORT", "8000")))
        parser.add_argument("--no-demo", action="store_true", help="do not start the simulator demo")

    def handle(self, *args: Any, **options: Any) -> None:
        Path(settings.DATA_DIR).mkdir(parents=True, exist_ok=True)
        call_command("migrate", interactive=False, verbosity=0)
        username, password_note = self._ensure_admin()
        port = options["port"]
        base_env = dict(os.environ, LIUCUN_BIND=f"127.0.0.1:{port}")
        children: list[subprocess.Popen[bytes]] = []
        demo: DemoSetup | None = None
        # A supervisor or `timeout` stops us with SIGTERM; without this the children would outlive us.
        signal.signal(signal.SIGTERM, _interrupt)
        echo = ProblemEcho(["web", "worker", "wxsim"], out=self.stderr)
        try:
            self.stdout.write("Starting Liucun (web server, worker and demo); this takes a few seconds ...")
            self.stdout.flush()
            children.append(spawn("web", [sys.executable, "-m", "liucun.cli", "serve"], env=base_env))
            children.append(spawn("worker", [sys.executable, "-m", "liucun.cli", "worker"], env=base_env))
            self._wait_until_up(port)
            if not options["no_demo"]:
                demo = prepare_demo(children, liucun_url=f"http://127.0.0.1:{port}")
            self.stdout.write("")
            self.stdout.write(f"Liucun is running at http://127.0.0.1:{port}/")
            self.stdout.write(f"  console login: user {username}  {password_note}")
            self.stdout.write(f"  Django admin: http://127.0.0.1:{port}/admin/  (same login)")
            if demo is not None:
                for line in demo.describe():
                    self.stdout.write(f"  {line}")
            self.stdout.write(f"  logs: {log_dir()}/ (web, worker, wxsim); problems are shown here too")
            self.stdout.write("Press Ctrl-C to stop.")
            self.stdout.flush()
            echo.start()
            while all(child.poll() is None for child in children):
                time.sleep(0.5)
            self.stderr.write("a Liucun process stopped; shutting the others down")
        except KeyboardInterrupt:
            pass
        finally:
            if echo.is_alive():
                echo.stop()
            for child in children:
                if child.poll() is None:
                    child.send_signal(signal.SIGTERM)
            for child in children:
                try:
                    child.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    child.kill()

    def _ensure_admin(self) -> tuple[str, str]:
        user_model = get_user_model()
        password_file = Path(settings.DATA_DIR) / "admin-password.txt"
        existing = user_model.objects.filter(is_superuser=True).order_by("pk").first()
        if existing is not None:
            if password_file.exists():
                return existing.get_username(), f"password: {password_file.read_text().strip()}"
            return existing.get_username(), "(password as you set it)"
        password = secrets.token_urlsafe(12)
        user_model.objects.create_superuser("admin", "admin@localhost", password)
        password_file.write_text(password + "\n")
        password_file.chmod(0o600)
        return "admin", f"password: {password} (also in {password_file})"

    def _wait_until_up(self, port: int) -> None:
        import httpx

        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        self.stderr.write(f"the web server did not answer within 120 s; see {log_dir() / 'web.log'}")
