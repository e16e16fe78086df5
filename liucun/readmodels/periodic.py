"""What the worker's schedule enqueues for the read models (collected by runner/scheduler.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from liucun.runner.scheduler import Periodic


def _enqueue_run() -> int:
    from django_tasks_db.compat import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    from liucun.readmodels.models import ConsumerState
    from liucun.readmodels.registry import consumers
    from liucun.readmodels.tasks import run_read_models

    # A run still waiting to start will find whatever came in meanwhile: while a long one holds the
    # worker (a far-behind consumer rebuilt set-based: minutes), another every 10 s would only queue up.
    queued = DBTaskResult.objects.filter(status=TaskResultStatus.READY)
    if queued.filter(task_path=run_read_models.module_path).exists():
        return 0
    # While every consumer is held by a running job, another one would only find them claimed.
    names = [c.name for c in consumers()]
    held = ConsumerState.objects.filter(name__in=names, lease_until__gt=datetime.now(UTC)).exclude(owner="")
    if held.count() == len(names):
        return 0
    run_read_models.enqueue()
    return 1


PERIODIC = [Periodic("read-models", timedelta(seconds=10), _enqueue_run)]
