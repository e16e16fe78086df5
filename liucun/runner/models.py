"""State of the worker's periodic schedule, shared by every worker process."""

from __future__ import annotations

from django.db import models


class ScheduledRun(models.Model):
    """When a periodic job is next due. Workers claim a run with a conditional UPDATE, so with any number
    of workers each due run is enqueued once."""

    name = models.CharField(max_length=80, primary_key=True)
    next_run_at = models.DateTimeField()
    last_run_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} next at {self.next_run_at:%Y-%m-%d %H:%M:%S}"


class WorkerBeat(models.Model):
    """A `liucun worker` process that is alive: it writes `beat_at` every few seconds while it runs
    (liucun/runner/heartbeat.py). A django-tasks row left running by a worker whose beat stopped is
    queued again (liucun/runner/orphans.py); `host` and `pid` say where to look for a worker."""

    worker_id = models.CharField(max_length=64, primary_key=True)
    host = models.CharField(max_length=255)
    pid = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    beat_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"worker {self.worker_id} on {self.host} pid {self.pid}, beat {self.beat_at:%H:%M:%S}"
