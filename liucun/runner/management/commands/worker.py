"""`liucun worker`: runs background jobs from the database queue, and the periodic schedule."""

from __future__ import annotations

import threading
from argparse import ArgumentParser
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand

from liucun.runner.heartbeat import Heartbeat, new_worker_id
from liucun.runner.scheduler import run_forever, tick


class Command(BaseCommand):
    help = "Run background jobs (django-tasks database worker) on every queue, plus periodic jobs."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--interval", type=float, default=0.5, help="seconds between polls when idle")
        parser.add_argument("--batch", action="store_true", help="run what is due and queued, then exit")
        parser.add_argument("--no-schedule", action="store_true", help="do not enqueue periodic jobs")

    def handle(self, *args: Any, **options: Any) -> None:
        worker_id = new_worker_id()
        # The beat is written before the first claim, so no task of this worker is ever seen without it.
        heartbeat = Heartbeat(worker_id)
        heartbeat.start()
        heartbeat.first_beat.wait(timeout=30)
        worker_args = [
            "--queue-name",
            "*",
            "--interval",
            str(options["interval"]),
            "--no-startup-delay",
            "--worker-id",
            worker_id,
        ]
        stop = threading.Event()
        if options["batch"]:
            if not options["no_schedule"]:
                tick()
            worker_args.append("--batch")
        elif not options["no_schedule"]:
            threading.Thread(target=run_forever, args=(stop,), name="liucun-schedule", daemon=True).start()
        try:
            call_command("db_worker", *worker_args)
        finally:
            stop.set()
            heartbeat.stop()
