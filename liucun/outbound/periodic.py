"""What the outbound app adds to the worker's periodic schedule (liucun/runner/scheduler.py)."""

from __future__ import annotations

from datetime import timedelta

from liucun.runner.scheduler import Periodic


def _sweep() -> int:
    from liucun.outbound.models import OutboundMessage, Status
    from liucun.outbound.tasks import sweep

    if not OutboundMessage.objects.filter(status__in=(Status.QUEUED, Status.SENDING)).exists():
        return 0
    sweep.enqueue()
    return 1


PERIODIC = [Periodic("outbound-stalled-and-lost-sends", timedelta(minutes=1), _sweep)]
