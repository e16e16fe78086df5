"""The one base of long jobs: claims, leases, the stalled-job pass and its registry, on a real database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from liucun.crm.models import ImportJob
from liucun.fans.models import SyncJob
from liucun.fans.tasks import sync_followers
from liucun.jobs import claims
from liucun.jobs.models import JobStatus
from liucun.jobs.registry import job_types, resume_stalled
from liucun.jobs.tests.helpers import queued_args, silence
from liucun.tags.models import TagJob
from liucun.testing.factories import make_account

pytestmark = pytest.mark.django_db


def test_every_job_type_registers_by_subclassing() -> None:
    assert job_types() == [ImportJob, SyncJob, TagJob]
    assert [m.job_task for m in job_types()] == [
        "liucun.crm.tasks.run_import_job",
        "liucun.fans.tasks.sync_followers",
        "liucun.tags.tasks.run_tag_job",
    ]
    assert not any(m.resume_failed for m in job_types())  # each failure waits for a person today


def test_two_workers_given_the_same_job_run_it_once() -> None:
    job = SyncJob.objects.create(account=make_account())
    first = claims.claim(SyncJob, job.pk, 1)
    second = claims.claim(SyncJob, job.pk, 1)
    assert first is not None and first.status == JobStatus.RUNNING and first.heartbeat_at is not None
    assert second is None
    # The same through the task: a second delivery of the queued run finds the job taken.
    assert sync_followers.call(job.pk, 1) == "nothing to do"
    assert SyncJob.objects.get(pk=job.pk).attempt == 1


def test_a_claim_for_another_attempt_takes_nothing() -> None:
    job = SyncJob.objects.create(account=make_account(), attempt=3)
    assert claims.claim(SyncJob, job.pk, 2) is None
    assert SyncJob.objects.get(pk=job.pk).status == JobStatus.QUEUED
    assert claims.claim(SyncJob, job.pk, 3) is not None


def test_the_stalled_pass_takes_only_dead_runs_and_the_old_run_stops() -> None:
    account = make_account()
    dead = claims.claim(SyncJob, SyncJob.objects.create(account=account).pk)
    alive = claims.claim(TagJob, TagJob.objects.create(account=account, kind="pull").pk)
    failed = claims.claim(ImportJob, ImportJob.objects.create(account=account).pk)
    assert dead is not None and alive is not None and failed is not None
    assert claims.fail(failed, "crashed: disk full")
    silence(dead)
    ImportJob.objects.filter(pk=failed.pk).update(heartbeat_at=datetime.now(UTC) - timedelta(hours=1))

    assert resume_stalled() == 1
    assert resume_stalled() == 0  # queued now: not taken twice
    resumed = SyncJob.objects.get(pk=dead.pk)
    assert (resumed.status, resumed.attempt, resumed.error) == (JobStatus.QUEUED, 2, "")
    assert queued_args(sync_followers) == [[dead.pk, 2]]
    assert TagJob.objects.get(pk=alive.pk).status == JobStatus.RUNNING
    assert ImportJob.objects.get(pk=failed.pk).status == JobStatus.FAILED

    # The run presumed dead wakes up: its next beat and its end are refused, and change nothing.
    with pytest.raises(claims.Superseded):
        claims.beat(dead, seen=999)
    assert not claims.finish(dead)
    assert not claims.fail(dead, "too late")
    after = SyncJob.objects.get(pk=dead.pk)
    assert (after.status, after.seen, after.error) == (JobStatus.QUEUED, 0, "")


def test_a_failed_job_is_resumed_as_a_new_attempt_only_by_hand() -> None:
    from liucun.jobs.actions import NotResumable, resume_failed_job
    from liucun.staff.models import AuditEntry

    account = make_account()
    job = claims.claim(TagJob, TagJob.objects.create(account=account, kind="pull").pk)
    assert job is not None
    with pytest.raises(NotResumable):
        resume_failed_job("op", TagJob, account, job.pk, audit_action="tags.resume_job")
    claims.fail(job, RuntimeError("quota"))
    assert TagJob.objects.get(pk=job.pk).error == "RuntimeError: quota"
    with pytest.raises(NotResumable):  # another account's job is not found
        resume_failed_job("op", TagJob, make_account(), job.pk, audit_action="tags.resume_job")
    resumed = resume_failed_job("op", TagJob, account, job.pk, audit_action="tags.resume_job")
    assert (resumed.status, resumed.attempt, resumed.error) == (JobStatus.QUEUED, 2, "")
    entry = AuditEntry.objects.get(action="tags.resume_job")
    assert (entry.account_id, entry.target, entry.changes) == (account.pk, f"job {job.pk}", {"attempt": 2})


@pytest.mark.django_db(transaction=True)
def test_two_workers_claiming_at_the_same_moment_one_wins() -> None:
    import threading

    from django.db import connection

    job = SyncJob.objects.create(account=make_account())
    start = threading.Barrier(2)
    won: list[bool] = []

    def worker() -> None:
        try:
            start.wait(timeout=10)
            won.append(claims.claim(SyncJob, job.pk, 1) is not None)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(won) == [False, True]
    assert SyncJob.objects.get(pk=job.pk).status == JobStatus.RUNNING
