"""What the runner adds to the worker's periodic schedule: taking back tasks of dead workers."""

from __future__ import annotations

from datetime import timedelta

from liucun.jobs.models import stalled_after
from liucun.runner.scheduler import Periodic


def _requeue_orphaned_tasks() -> int:
    from liucun.runner.orphans import requeue_orphaned_tasks

    return requeue_orphaned_tasks()


# Twice per threshold (at most every minute): a dead worker's task waits at most 1.5 thresholds.
PERIODIC = [
    Periodic(
        "requeue-orphaned-tasks", min(timedelta(minutes=1), stalled_after() / 2), _requeue_orphaned_tasks
    )
]
