"""Background jobs of the callback app. Idempotent."""

from __future__ import annotations

from django_tasks import task


@task()
def forget_expired_nonces() -> int:
    """Drop plaintext-mode nonces whose timestamps are no longer accepted (inbound/replay.py)."""
    from liucun.inbound.replay import forget_expired

    return forget_expired()
