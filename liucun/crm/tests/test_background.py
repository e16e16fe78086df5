"""Large imports run by a worker: progress on the job, crashes run again, stale uploads dropped."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.db import connection
from django_tasks_db.models import DBTaskResult

from liucun.crm import imports
from liucun.crm.models import ImportJob, ImportStatus
from liucun.crm.tasks import drop_stale_uploads, run_import_job
from liucun.crm.tests.helpers import MAPPING, attributes_of, csv_text, make_fans, member_rows
from liucun.fans.models import Fan
from liucun.jobs.registry import resume_stalled
from liucun.staff.models import AuditEntry
from liucun.testing.factories import make_account

REPO = Path(__file__).resolve().parents[3]


def _big_file(account, count: int) -> bytes:
    fans = make_fans(account, count)
    data = csv_text(member_rows([f.openid for f in fans])).encode("gbk")
    assert len(data) > imports.INLINE_MAX_BYTES
    return data


@pytest.mark.django_db
def test_a_large_file_is_queued_and_reports_progress_as_it_goes() -> None:
    account = make_account()
    data = _big_file(account, 6000)
    job = imports.start_import("op", account, data, MAPPING, dry_run=True, filename="big.csv")
    assert (job.status, job.total_rows, job.progress) == (ImportStatus.QUEUED, None, 0.0)
    assert DBTaskResult.objects.filter(task_path__endswith="run_import_job").count() == 1

    seen: list[tuple[int, int | None]] = []

    def watch(done: int, total: int) -> None:
        stored = ImportJob.objects.get(pk=job.pk)  # what the console's poll reads
        seen.append((stored.rows_done, stored.total_rows))

    imports.run_import(job.pk, job.attempt, on_progress=watch)
    assert seen == [(5000, 6000), (6000, 6000)]  # a beat for every chunk of rows looked up
    job.refresh_from_db()
    assert (job.status, job.would_update, job.progress) == (ImportStatus.VALIDATED, 6000, 1.0)

    job = imports.commit_import("op", account, job.pk)
    assert job.status == ImportStatus.QUEUED and job.attempt == 2
    assert run_import_job.call(job.pk, 1) == "nothing to do"  # the dry run's task, superseded
    assert run_import_job.call(job.pk, 2).startswith("done")
    job.refresh_from_db()
    assert (job.status, job.updated, job.has_content) == (ImportStatus.DONE, 6000, False)
    assert run_import_job.call(job.pk, 2) == "nothing to do"  # a second delivery of the task


@pytest.mark.django_db
def test_a_crashed_commit_writes_nothing_and_can_be_run_again(monkeypatch) -> None:
    account = make_account()
    fans = make_fans(account, 30)
    data = csv_text(member_rows([f.openid for f in fans])).encode()

    def disk_full(updates):
        Fan.objects.filter(pk=updates[0][0]).update(attributes={"half": "written"})
        raise OSError("disk full")

    monkeypatch.setattr(imports, "_write_attributes", disk_full)
    with pytest.raises(OSError):
        imports.start_import("op", account, data, MAPPING, dry_run=False)
    job = ImportJob.objects.get()
    assert (job.status, job.error) == (ImportStatus.FAILED, "crashed: disk full")
    assert job.can_commit and job.has_content
    assert not Fan.objects.exclude(attributes={}).exists()  # rolled back, all or nothing
    assert not AuditEntry.objects.filter(action="crm.import").exists()

    monkeypatch.undo()
    job = imports.commit_import("op", account, job.pk)
    assert (job.status, job.updated) == (ImportStatus.DONE, 30)
    assert attributes_of(account, fans[0].openid)["customer_id"] == "C000000"


@pytest.mark.django_db
def test_a_job_whose_worker_died_is_resumed() -> None:
    account = make_account()
    data = _big_file(account, 5000)
    job = imports.start_import("op", account, data, MAPPING, dry_run=False)
    long_ago = datetime.now(UTC) - timedelta(minutes=10)
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.RUNNING, heartbeat_at=long_ago)
    assert ImportJob.objects.get(pk=job.pk).can_commit
    assert resume_stalled() == 1
    assert resume_stalled() == 0
    job.refresh_from_db()
    assert (job.status, job.attempt) == (ImportStatus.QUEUED, 2)
    assert run_import_job.call(job.pk, 2).startswith("done")
    assert ImportJob.objects.get(pk=job.pk).updated == 5000


@pytest.mark.django_db
def test_an_import_killed_while_writing_is_resumed_by_the_stalled_pass(monkeypatch) -> None:
    from django.urls import reverse

    from liucun.jobs.tests.helpers import WorkerKilled, queued_args, run_last_queued, silence, staff_client
    from liucun.runner.scheduler import tick
    from liucun.staff.models import Role

    account = make_account()
    data = _big_file(account, 5000)
    job = imports.start_import("op", account, data, MAPPING, dry_run=False)
    assert queued_args(run_import_job) == [[job.pk, 1]]
    real_write = imports._write_attributes

    def killed(updates):
        real_write(updates[:2000])  # part of the fans written, then the process is killed
        raise WorkerKilled("SIGKILL")

    monkeypatch.setattr(imports, "_write_attributes", killed)
    with pytest.raises(WorkerKilled):
        run_last_queued(run_import_job)
    monkeypatch.undo()
    silence(job)
    # All or nothing: the killed transaction wrote nothing; its checkpoint is the kept upload.
    assert (job.status, job.phase, job.rows_done, job.total_rows) == ("running", "writing", 5000, 5000)
    assert job.stalled and job.has_content
    assert not Fan.objects.filter(account=account).exclude(attributes={}).exists()

    detail = reverse("console:import", kwargs={"appid": account.appid, "job_id": job.pk})
    shown = staff_client(account, Role.OPERATOR).get(detail).content.decode().replace(",", "")
    assert "5000 / 5000" in shown and "stalled" in shown

    assert tick()["resume-stalled-jobs"] == 1
    assert queued_args(run_import_job)[-1] == [job.pk, 2]
    assert run_last_queued(run_import_job) == "done: 5000 rows, 5000 updated"
    job.refresh_from_db()
    assert (job.status, job.attempt, job.updated, job.has_content) == (ImportStatus.DONE, 2, 5000, False)
    assert Fan.objects.filter(account=account).exclude(attributes={}).count() == 5000
    assert AuditEntry.objects.filter(action="crm.import").count() == 1  # applied once
    assert run_import_job.call(job.pk, 1) == "nothing to do"  # the dead run's task, delivered late
    assert "stalled" not in staff_client(account, Role.OPERATOR).get(detail).content.decode()


@pytest.mark.django_db
def test_uploads_never_applied_are_dropped_after_a_day() -> None:
    account = make_account()
    make_fans(account, 2)
    data = csv_text(member_rows(["oF000000", "oF000001"])).encode()
    old = imports.start_import("op", account, data, MAPPING)
    fresh = imports.start_import("op", account, data, MAPPING)
    ImportJob.objects.filter(pk=old.pk).update(created_at=datetime.now(UTC) - timedelta(hours=25))
    assert drop_stale_uploads.call() == 1
    old.refresh_from_db()
    assert not old.has_content and not old.can_commit
    assert ImportJob.objects.filter(pk=old.pk).values_list("content", flat=True).get() is None
    assert ImportJob.objects.get(pk=fresh.pk).can_commit


def _database_url() -> str:
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    return f"postgres://{s['USER']}:{s['PASSWORD']}@{s['HOST']}:{s['PORT']}/{s['NAME']}"


@pytest.mark.django_db(transaction=True)
def test_a_worker_applies_a_large_import_with_live_progress() -> None:
    account = make_account()
    # Large enough for three write chunks and a part of one: progress has states to show in between.
    rows = 3 * imports.WRITE_CHUNK + 500
    data = _big_file(account, rows)
    job = imports.start_import("op", account, data, MAPPING, dry_run=False, filename="members.csv")
    worker = subprocess.Popen(
        [sys.executable, "-m", "liucun.cli", "worker", "--batch", "--interval", "0.05"],
        env=dict(os.environ, DATABASE_URL=_database_url()),
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    seen: set[tuple[str, int]] = set()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        job.refresh_from_db()
        seen.add((job.status, job.rows_done))
        if job.is_over:
            break
        time.sleep(0.02)
    _, err = worker.communicate(timeout=60)
    assert worker.returncode == 0, err
    assert (job.status, job.updated) == (ImportStatus.DONE, rows), job.error
    partial = {done for status, done in seen if status == ImportStatus.RUNNING and 0 < done < rows}
    assert partial, f"no progress seen between start and end: {sorted(seen)}"
