"""Background delivery of outbound messages. Idempotent: a run finds its row already claimed and stops."""

from __future__ import annotations

from django_tasks import task


@task()
def deliver(message_id: int) -> str:
    from liucun.outbound.actions import send_now

    return str(send_now(message_id).status)


@task()
def sweep() -> dict[str, int]:
    """The periodic pass: stalled sends become unknown, queued rows whose task was lost are re-enqueued."""
    from liucun.outbound.actions import mark_stalled, requeue_lost

    return {"unknown": mark_stalled(), "requeued": requeue_lost()}
