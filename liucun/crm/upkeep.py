"""What the worker's periodic schedule runs for imports: forget stale uploads.

Imports whose worker died are resumed by the one stalled-job pass of every job type
(liucun/jobs/registry.py).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from liucun.crm.models import ImportJob, ImportStatus

KEEP_UNAPPLIED = timedelta(hours=24)  # an upload not applied by then is dropped (docs/privacy.md)


def drop_stale_uploads(older_than: timedelta = KEEP_UNAPPLIED) -> int:
    """Forget uploads never applied: they hold personal data of fans who may have left since."""
    cutoff = datetime.now(UTC) - older_than
    return (
        ImportJob.objects.filter(content_dropped_at__isnull=True, created_at__lt=cutoff)
        .exclude(status__in=[ImportStatus.QUEUED, ImportStatus.RUNNING])
        .update(content=None, content_dropped_at=datetime.now(UTC))
    )
