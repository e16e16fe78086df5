"""Moving a long job through its statuses, safely with any number of workers.

Every change is a conditional UPDATE on the job's row: a run claims a queued job only if it is still
queued at that attempt (two workers given the same job: one runs it, the other finds nothing to do),
and beats, finishes or fails it only while the attempt is still its own (a resumed job has a new one).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, TypeVar

from django.db import models, transaction
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.utils.module_loading import import_string

from liucun.jobs.models import JobStatus, LongJob

J = TypeVar("J", bound=LongJob)


class Superseded(Exception):
    """The job is no longer this run's: it was resumed (a new attempt) or finished by another run."""

    def __init__(self, job: LongJob) -> None:
        super().__init__(f"{type(job).__name__} {job.pk} attempt {job.attempt} was taken over")
        self.job = job


def _now() -> datetime:
    return datetime.now(UTC)


def claim(model: type[J], job_id: int, attempt: int | None = None, **also: Any) -> J | None:
    """Take a queued job for this run: the job, running, or None if it is not queued at that attempt.

    `attempt` None serves tasks enqueued before jobs carried one: whichever attempt is queued.
    """
    now = _now()
    queued = model._default_manager.filter(pk=job_id, status=JobStatus.QUEUED)
    if attempt is not None:
        queued = queued.filter(attempt=attempt)
    taken = queued.update(
        status=JobStatus.RUNNING,
        started_at=Coalesce(F("started_at"), Value(now, output_field=models.DateTimeField())),
        heartbeat_at=now,
        finished_at=None,
        error="",
        **also,
    )
    if not taken:
        return None
    return model._default_manager.select_related("account").get(pk=job_id)


def take(job: J) -> J:
    """For a run handed a job object: claim it if queued, else go on if it is running at its attempt."""
    if job.status == JobStatus.QUEUED:
        claimed = claim(type(job), job.pk, job.attempt)
        if claimed is None:
            raise Superseded(job)
        for name in ("status", "started_at", "heartbeat_at", "finished_at", "error"):
            setattr(job, name, getattr(claimed, name))
        return job
    beat(job)
    return job


def beat(job: LongJob, **fields: Any) -> None:
    """The heartbeat (with any progress counters): raises Superseded if the run no longer holds the job.

    Inside a transaction it also locks the job's row until the commit, so a page or batch and its
    checkpoint are written only by the run holding the job.
    """
    now = _now()
    held = type(job)._default_manager.filter(pk=job.pk, attempt=job.attempt, status=JobStatus.RUNNING)
    if not held.update(heartbeat_at=now, **fields):
        raise Superseded(job)
    job.heartbeat_at = now
    for name, value in fields.items():
        setattr(job, name, value)


def finish(job: LongJob, status: str = JobStatus.DONE, **fields: Any) -> bool:
    """End the run (done, or a type's own end such as an import's "validated"); False if superseded."""
    now = _now()
    held = type(job)._default_manager.filter(pk=job.pk, attempt=job.attempt, status=JobStatus.RUNNING)
    if not held.update(status=status, finished_at=now, heartbeat_at=now, **fields):
        return False
    job.status, job.finished_at, job.heartbeat_at = status, now, now
    for name, value in fields.items():
        setattr(job, name, value)
    return True


def fail(job: LongJob, error: str | BaseException, **fields: Any) -> bool:
    """Record why the run failed; its checkpoint stays, so the job can be resumed. False if superseded."""
    if isinstance(error, BaseException):
        error = f"{type(error).__name__}: {error}"
    return finish(job, JobStatus.FAILED, error=error[:2000], **fields)


def enqueue(job: LongJob) -> None:
    """Queue the job's task for its current attempt (in the caller's transaction: both commit or none)."""
    import_string(type(job).job_task).enqueue(job.pk, job.attempt)


@transaction.atomic
def requeue(model: type[J], job_id: int, when: Q, **also: Any) -> J | None:
    """Queue a job again as a new attempt if it matches `when` (stalled, failed): the job, or None.

    The attempt counted up makes any run still holding the old one stop at its next beat.
    """
    changed = (
        model._default_manager.filter(when, pk=job_id)
        .exclude(status=JobStatus.QUEUED)
        .update(status=JobStatus.QUEUED, attempt=F("attempt") + 1, error="", finished_at=None, **also)
    )
    if not changed:
        return None
    job = model._default_manager.select_related("account").get(pk=job_id)
    enqueue(job)
    return job
