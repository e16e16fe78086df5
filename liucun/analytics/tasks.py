"""The analytics app's background work."""

from __future__ import annotations

from django_tasks import task

from liucun.analytics.snapshot import refresh_all


@task()
def refresh_following_snapshots() -> int:
    return refresh_all()
