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
