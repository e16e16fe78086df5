"""Queue again the django-tasks rows a dead worker left RUNNING.

django_tasks_db claims a row by setting it RUNNING with the worker's id appended to `worker_ids`, and
nothing ever looks at it again: a worker killed mid-task leaves the row RUNNING forever and the task
never runs. Long jobs were already resumed by their own heartbeat (liucun/jobs/registry.py); this pass
covers every task, including a long job's task killed before it claimed its job.

A row is taken back when it has been running longer than the stalled threshold and the worker that
claimed it last has not beaten for that long (liucun/runner/heartbeat.py). It goes back to READY, keeping
its `worker_ids`, so the next worker's id is appended and the row shows it ran twice. Every task is safe to
run again: long jobs claim their job by (status, attempt) and a superseded run stops at once, and the
other tasks are idempotent by design (docs/architecture.md, "Background jobs").
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from django_tasks_db.compat import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from liucun.jobs.models import stalled_after
from liucun.runner.heartbeat import alive_workers
from liucun.runner.models import WorkerBeat
from liucun.sqlite_writelock import serialized_writes

log = logging.getLogger(__name__)

# Rows of workers gone this long are only history: dropped so the table stays as small as the pool.
FORGET_AFTER_THRESHOLDS = 100


def requeue_orphaned_tasks(now: datetime | None = None) -> int:
    """Put back to READY every running task whose worker is gone; returns how many."""
    now = now or datetime.now(UTC)
    cutoff = now - stalled_after()
    alive = alive_workers(now)
    running = DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING, started_at__lt=cutoff)
    requeued = 0
    for pk, worker_ids, started_at, task_path in running.values_list(
        "pk", "worker_ids", "started_at", "task_path"
    ):
        holder = worker_ids[-1] if worker_ids else None
        if holder in alive:
            continue
        with serialized_writes():
            # Conditional on the claim we saw: a row that finished, or that another pass took first, or
            # that a worker claimed again meanwhile, is left alone.
            taken = DBTaskResult.objects.filter(pk=pk, status=TaskResultStatus.RUNNING, started_at=started_at)
            changed = taken.update(status=TaskResultStatus.READY)
        if changed:
            log.warning("task %s (%s) of worker %s, which is gone, queued again", pk, task_path, holder)
        requeued += changed
    with serialized_writes():
        WorkerBeat.objects.filter(beat_at__lt=now - stalled_after() * FORGET_AFTER_THRESHOLDS).delete()
    return requeued
