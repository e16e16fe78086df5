"""What the CRM app adds to the worker's periodic schedule (liucun/runner/scheduler.py)."""

from __future__ import annotations

from datetime import timedelta

from liucun.runner.scheduler import Periodic


def _drop_stale_uploads() -> int:
    from liucun.crm.tasks import drop_stale_uploads

    drop_stale_uploads.enqueue()
    return 1


PERIODIC = [Periodic("drop-stale-uploads", timedelta(hours=1), _drop_stale_uploads)]
