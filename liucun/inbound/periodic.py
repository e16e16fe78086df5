"""What the callback app adds to the worker's periodic schedule (liucun/runner/scheduler.py)."""

from __future__ import annotations

from datetime import timedelta

from liucun.runner.scheduler import Periodic


def _forget_expired_nonces() -> int:
    from liucun.inbound.models import PlaintextNonce
    from liucun.inbound.tasks import forget_expired_nonces

    if not PlaintextNonce.objects.exists():
        return 0
    forget_expired_nonces.enqueue()
    return 1


PERIODIC = [Periodic("forget-expired-plaintext-nonces", timedelta(minutes=10), _forget_expired_nonces)]
