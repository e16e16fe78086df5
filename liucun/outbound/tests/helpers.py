"""Running the delivery tasks as a worker would, without a worker process."""

from __future__ import annotations

from django_tasks_db.models import DBTaskResult

from liucun.outbound.tasks import deliver


def _rows() -> list[DBTaskResult]:
    return list(DBTaskResult.objects.filter(task_path=deliver.module_path).order_by("enqueued_at", "id"))


def queued_deliveries() -> list[int]:
    return [int(row.args_kwargs["args"][0]) for row in _rows()]


def run_deliveries() -> list[str]:
    """Run every enqueued delivery once (even one scheduled for later, as time passing would); what they
    enqueue in turn waits for the next call."""
    rows = _rows()
    DBTaskResult.objects.filter(pk__in=[r.pk for r in rows]).delete()
    return [deliver.call(int(row.args_kwargs["args"][0])) for row in rows]
