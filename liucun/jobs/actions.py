"""Named writes on long jobs of any type."""

from __future__ import annotations

from typing import TypeVar

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Q

from liucun.accounts.models import OfficialAccount
from liucun.jobs.claims import requeue
from liucun.jobs.models import JobStatus, LongJob
from liucun.staff.audit import record

J = TypeVar("J", bound=LongJob)


class NotResumable(Exception):
    """Only a failed job can be resumed by hand (a stalled one is resumed by the worker on its own)."""


@transaction.atomic
def resume_failed_job(
    actor: AbstractBaseUser | str, model: type[J], account: OfficialAccount, job_id: int, *, audit_action: str
) -> J:
    """Queue a failed job of this account again, as a new attempt: it goes on from its checkpoint."""
    job = requeue(model, job_id, Q(account=account, status=JobStatus.FAILED))
    if job is None:
        raise NotResumable("only a failed job can be resumed")
    record(actor, audit_action, account=account, target=f"job {job.pk}", changes={"attempt": job.attempt})
    return job
