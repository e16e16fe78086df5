"""What the worker's periodic schedule runs for imports: resume dead runs, forget stale uploads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.db import transaction

from liucun.crm.imports import enqueue
from liucun.crm.models import STALLED_AFTER, ImportJob, ImportStatus

KEEP_UNAPPLIED = timedelta(hours=24)  # an upload not applied by then is dropped (docs/privacy.md)


def resume_stalled_imports() -> int:
    """Queue again the imports whose worker died (no heartbeat for STALLED_AFTER). For the schedule."""
    cutoff = datetime.now(UTC) - STALLED_AFTER
    resumed = 0
    for job_id in ImportJob.objects.filter(status=ImportStatus.RUNNING, heartbeat_at__lt=cutoff).values_list(
        "pk", flat=True
    ):
        with transaction.atomic():
            job = ImportJob.objects.select_for_update().get(pk=job_id)
            if not job.stalled:
                continue
            job.status, job.attempt = ImportStatus.QUEUED, job.attempt + 1
            job.save(update_fields=["status", "attempt"])
            enqueue(job)
            resumed += 1
    return resumed


def drop_stale_uploads(older_than: timedelta = KEEP_UNAPPLIED) -> int:
    """Forget uploads never applied: they hold personal data of fans who may have left since."""
    cutoff = datetime.now(UTC) - older_than
    return (
        ImportJob.objects.filter(content_dropped_at__isnull=True, created_at__lt=cutoff)
        .exclude(status__in=[ImportStatus.QUEUED, ImportStatus.RUNNING])
        .update(content=None, content_dropped_at=datetime.now(UTC))
    )
