"""The worker's sign of life: one WorkerBeat row per `liucun worker`, written every few seconds.

django-tasks records which worker claimed a task (`worker_ids`), but not whether that worker is still
alive: a worker killed by SIGKILL or lost with its machine leaves its task RUNNING forever. The beat,
written by a thread of its own so a long task never delays it, is what the requeue pass
(liucun/runner/orphans.py) reads to tell a slow task from a dead worker's.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
from datetime import UTC, datetime, timedelta

from django.db import close_old_connections, connection

from liucun.jobs.models import stalled_after
from liucun.runner.models import WorkerBeat
from liucun.sqlite_writelock import serialized_writes

log = logging.getLogger(__name__)

# Beats come at least this often, and ten of them fit into the stalled threshold: a worker is taken for
# dead only after missing about ten beats in a row, never after one slow write.
MAX_BEAT_INTERVAL = timedelta(seconds=30)


def beat_interval() -> float:
    return min(MAX_BEAT_INTERVAL, stalled_after() / 10).total_seconds()


def new_worker_id() -> str:
    """Unique across machines and restarts, readable in the task rows: host, process id, a random tail."""
    tail = f"-{os.getpid()}-{secrets.token_hex(4)}"
    return socket.gethostname()[: 64 - len(tail)] + tail


def beat(worker_id: str, started_at: datetime, now: datetime | None = None) -> None:
    now = now or datetime.now(UTC)
    with serialized_writes():
        WorkerBeat.objects.update_or_create(
            worker_id=worker_id,
            defaults={
                "host": socket.gethostname()[:255],
                "pid": os.getpid(),
                "started_at": started_at,
                "beat_at": now,
            },
        )


def alive_workers(now: datetime | None = None) -> set[str]:
    """The ids of workers that beat within the stalled threshold."""
    cutoff = (now or datetime.now(UTC)) - stalled_after()
    return set(WorkerBeat.objects.filter(beat_at__gte=cutoff).values_list("worker_id", flat=True))


class Heartbeat(threading.Thread):
    """Beats for `worker_id` until stopped; a stopped worker removes its row (it left nothing running)."""

    def __init__(self, worker_id: str) -> None:
        super().__init__(daemon=True, name="liucun-heartbeat")
        self.worker_id = worker_id
        self.started_at = datetime.now(UTC)
        self.stopped = threading.Event()
        self.first_beat = threading.Event()

    def run(self) -> None:
        try:
            while not self.stopped.is_set():
                try:
                    beat(self.worker_id, self.started_at)
                    self.first_beat.set()
                except Exception:
                    # A missed beat or two is harmless (ten fit into the threshold); the next one retries.
                    log.exception("worker %s could not write its heartbeat", self.worker_id)
                finally:
                    close_old_connections()
                self.stopped.wait(beat_interval())
            with serialized_writes():
                WorkerBeat.objects.filter(worker_id=self.worker_id).delete()
        finally:
            connection.close()

    def stop(self) -> None:
        self.stopped.set()
        self.join(timeout=10)
