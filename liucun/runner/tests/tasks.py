"""Tasks used only by the runner's tests: what a worker sees of itself while it runs a task."""

from __future__ import annotations

from django_tasks import task


@task()
def workers_beating() -> list[str]:
    """The ids of the workers whose heartbeat is fresh, as seen from inside a running task."""
    from liucun.runner.heartbeat import alive_workers

    return sorted(alive_workers())
