"""The worker's job that keeps the read models up to date. Idempotent: with nothing new it does nothing."""

from __future__ import annotations

from datetime import timedelta

from django_tasks import task

from liucun.readmodels.runner import run_all

# Long enough to catch up a busy minute, short enough that one worker is not held for long.
RUN_BUDGET = timedelta(seconds=60)


@task()
def run_read_models() -> int:
    """Fold new events into every consumer; returns how many events were handled."""
    return sum(result.events for result in run_all(budget=RUN_BUDGET))
