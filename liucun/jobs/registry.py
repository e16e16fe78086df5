"""Every kind of long job, and the one pass that resumes those whose worker died.

A job type registers by subclassing LongJob (liucun/jobs/models.py) with its task; nothing else to list.
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.apps import apps
from django.db.models import Q

from liucun.jobs.claims import requeue
from liucun.jobs.models import JobStatus, LongJob, stalled_after


def job_types() -> list[type[LongJob]]:
    """The concrete job models of the installed apps, in a stable order."""
    found = [m for m in apps.get_models() if issubclass(m, LongJob) and not m._meta.abstract]
    return sorted(found, key=lambda m: m._meta.label)


def resumable(model: type[LongJob], now: datetime | None = None) -> Q:
    """Jobs of this type the pass queues again: running with no heartbeat for stalled_after(), and failed
    ones too when the type resumes failures on its own."""
    cutoff = (now or datetime.now(UTC)) - stalled_after()
    stalled = Q(status=JobStatus.RUNNING) & (
        Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, started_at__lt=cutoff)
    )
    return stalled | Q(status=JobStatus.FAILED) if model.resume_failed else stalled


def resume_stalled(now: datetime | None = None) -> int:
    """Queue again, as a new attempt, every job whose worker died; each resumes from its checkpoint."""
    resumed = 0
    for model in job_types():
        when = resumable(model, now)
        for job_id in model._default_manager.filter(when).order_by("pk").values_list("pk", flat=True):
            # Checked again in the UPDATE itself: a job that beat meanwhile, or that another worker's
            # pass took first, is left alone.
            resumed += requeue(model, job_id, when) is not None
    return resumed
