"""The one base of every long job (follower syncs, tag jobs, CSV imports; pushes and campaigns next).

A job row is its own record of progress: its status, who asked, when it started, last beat and ended,
how far it got, why it failed, and which run (`attempt`) holds it. The helpers that move a job from
status to status are in liucun/jobs/claims.py; the pass that resumes stalled jobs in registry.py.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


def stalled_after() -> timedelta:
    """A running job whose heartbeat is older than this is taken for dead (its worker crashed or was
    killed) and is queued again. Every job beats at least once a page, batch or chunk of rows, a few
    seconds apart. LIUCUN_JOB_STALLED_AFTER_SECONDS, 5 minutes unless set."""
    return timedelta(seconds=settings.LIUCUN_JOB_STALLED_AFTER_SECONDS)


class JobStatus(models.TextChoices):
    QUEUED = "queued", _("queued")
    RUNNING = "running", _("running")
    DONE = "done", _("done")
    FAILED = "failed", _("failed")


class LongJob(models.Model):
    """Abstract: the bookkeeping every long job shares. Concrete jobs add their checkpoint and counters.

    A concrete job registers itself by subclassing: `job_task` names the task run as
    `task(job_id, attempt)`, `resume_failed` says whether the stalled-job pass also queues failed jobs
    again (false when a failure needs a person first, e.g. a refused secret), and `progress_fields`
    names the (done, total) counters the console and the API show.
    """

    status = models.CharField(max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED)
    requested_by = models.CharField(max_length=80, default="system")
    # Runs of this job so far. A run holds the job while the number is its own: resuming a stalled job
    # counts one up, so a worker presumed dead that wakes up finds another number and stops.
    attempt = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True, default="")

    job_task: ClassVar[str] = ""
    resume_failed: ClassVar[bool] = False
    progress_fields: ClassVar[tuple[str, str]] = ("done", "total")
    # Statuses in which the job succeeded (1.0 progress) and in which nothing more happens on its own.
    succeeded_statuses: ClassVar[frozenset[str]] = frozenset({JobStatus.DONE})
    over_statuses: ClassVar[frozenset[str]] = frozenset({JobStatus.DONE, JobStatus.FAILED})

    class Meta:
        abstract = True

    @property
    def progress_done(self) -> int:
        return int(getattr(self, self.progress_fields[0]) or 0)

    @property
    def progress_total(self) -> int | None:
        total = getattr(self, self.progress_fields[1])
        return None if total is None else int(total)

    @property
    def progress(self) -> float:
        if self.status in self.succeeded_statuses:
            return 1.0
        total = self.progress_total
        return min(1.0, self.progress_done / total) if total else 0.0

    @property
    def percent(self) -> int:
        """Whole percent done, rounded down: 9,999 of 10,000 is 99 %, not 100 % while it still runs."""
        return int(self.progress * 100)

    @property
    def is_over(self) -> bool:
        """Nothing more will happen to the job on its own (the console stops polling)."""
        return self.status in self.over_statuses

    @property
    def stalled(self) -> bool:
        """Running, but no heartbeat for stalled_after(): its worker died (the resume pass will take it)."""
        beat = self.heartbeat_at or self.started_at
        return (
            self.status == JobStatus.RUNNING
            and beat is not None
            and datetime.now(UTC) - beat > stalled_after()
        )
