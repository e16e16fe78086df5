"""Imports of fan attributes from company systems (CSV)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from liucun.accounts.models import OfficialAccount
from liucun.jobs.models import LongJob


class ImportStatus(models.TextChoices):
    """The statuses of every job (liucun/jobs/models.JobStatus, the same values) and a dry run's end."""

    QUEUED = "queued", _("queued")
    RUNNING = "running", _("running")
    VALIDATED = "validated", _("checked")  # a dry run that finished: counts and line errors are final
    DONE = "done", _("applied")
    FAILED = "failed", _("failed")


class ImportPhase(models.TextChoices):
    NONE = "", ""
    CHECKING = "checking", _("checking rows")
    WRITING = "writing", _("writing")


class ImportJobManager(models.Manager["ImportJob"]):
    def get_queryset(self) -> models.QuerySet[ImportJob]:
        # The uploaded bytes (up to 20 MB) are read only by the import itself, never by a list or a poll.
        return super().get_queryset().defer("content")


class ImportJob(LongJob):
    """One uploaded CSV: checked (dry run), then applied all or nothing.

    The bytes stay on the job until it is applied (or given up), so a check can be committed later and a
    crashed commit run again; applying the same file twice changes nothing the second time. The upload
    is the checkpoint: a commit writes all or nothing, so a run killed mid-way wrote nothing and its
    resumed attempt writes every fan once.
    """

    job_task = "liucun.crm.tasks.run_import_job"
    progress_fields = ("rows_done", "total_rows")
    succeeded_statuses = frozenset({ImportStatus.VALIDATED, ImportStatus.DONE})
    over_statuses = frozenset({ImportStatus.VALIDATED, ImportStatus.DONE, ImportStatus.FAILED})

    id = models.BigAutoField(primary_key=True)
    account = models.ForeignKey(OfficialAccount, on_delete=models.CASCADE, related_name="import_jobs")
    committed_by = models.CharField(max_length=80, blank=True, default="")
    # The staff member behind the commit, for its audit entry when a worker applies it later.
    committed_by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    dry_run = models.BooleanField(default=True)
    status = models.CharField(max_length=16, choices=ImportStatus.choices, default=ImportStatus.QUEUED)
    phase = models.CharField(max_length=16, choices=ImportPhase.choices, blank=True, default="")
    filename = models.CharField(max_length=255, blank=True, default="")
    size = models.PositiveIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True, default="")
    encoding = models.CharField(max_length=20, blank=True, default="")
    delimiter = models.CharField(max_length=4, blank=True, default="")
    mapping = models.JSONField(default=dict, blank=True)
    content = models.BinaryField(null=True, blank=True)
    # When the bytes were dropped (applied, refused for line errors, or left unapplied too long).
    content_dropped_at = models.DateTimeField(null=True, blank=True)
    total_rows = models.PositiveIntegerField(null=True, blank=True)
    rows_done = models.PositiveIntegerField(default=0)
    would_update = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    # Fans who unfollowed an account that erases personal data on unfollow: nothing is stored for them.
    skipped = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)  # lines with at least one error
    line_errors = models.JSONField(default=list, blank=True)  # the first few: [{"line": n, "message": ...}]

    objects = ImportJobManager()

    class Meta:
        indexes = [models.Index(fields=["account", "status"], name="import_account_status")]

    def __str__(self) -> str:
        return f"import {self.pk} of {self.account_id}: {self.status} {self.rows_done}/{self.total_rows}"

    @property
    def can_commit(self) -> bool:
        """A clean dry run can be applied; a commit that crashed can be run again."""
        if self.status == ImportStatus.VALIDATED:
            return self.error_count == 0 and not self.error and self.has_content
        retry = (self.status == ImportStatus.FAILED and self.error_count == 0) or self.stalled
        return not self.dry_run and retry and self.has_content

    @property
    def has_content(self) -> bool:
        return self.content_dropped_at is None
