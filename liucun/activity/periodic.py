"""What the activity app adds to the worker's schedule (collected by runner/scheduler.py)."""

from __future__ import annotations

from datetime import timedelta

from liucun.runner.scheduler import Periodic


def _enqueue_measure_channels() -> int:
    from liucun.activity.tasks import sync_measure_channels

    sync_measure_channels.enqueue()
    return 1


# Every minute: a service report of one channel then looks up at most a minute's changes itself.
PERIODIC = [Periodic("service-measure-channels", timedelta(minutes=1), _enqueue_measure_channels)]
