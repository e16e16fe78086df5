"""What the worker's schedule enqueues for analytics (collected by runner/scheduler.py)."""

from __future__ import annotations

from datetime import timedelta

from liucun.runner.scheduler import Periodic


def _enqueue_snapshots() -> int:
    from liucun.analytics.tasks import refresh_following_snapshots

    refresh_following_snapshots.enqueue()
    return 1


# Every minute: each account's snapshot is retaken once it is older than snapshot.REFRESH (5 minutes).
PERIODIC = [Periodic("following-snapshots", timedelta(minutes=1), _enqueue_snapshots)]
