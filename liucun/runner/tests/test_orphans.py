"""Tasks left RUNNING by a dead worker are queued again and run once; a live worker's are left alone."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django_tasks_db.models import DBTaskResult

from liucun.jobs.models import stalled_after
from liucun.runner.models import WorkerBeat
from liucun.runner.orphans import requeue_orphaned_tasks
from liucun.runner.tests.tasks import workers_beating
from liucun.runner.tests.test_worker import REPO, _database_url
from liucun.testing.tasks import append_marker


def _claimed(row_id: str, worker_id: str, started_at: datetime) -> None:
    row = DBTaskResult.objects.get(pk=row_id)
    row.claim(worker_id)  # as django_tasks_db's worker claims it
    DBTaskResult.objects.filter(pk=row_id).update(started_at=started_at)


def _beat(worker_id: str, at: datetime) -> None:
    WorkerBeat.objects.create(worker_id=worker_id, host="node-a", pid=4242, started_at=at, beat_at=at)


def _run_worker_batch() -> None:
    env = dict(os.environ, DATABASE_URL=_database_url())
    done = subprocess.run(
        [sys.executable, "-m", "liucun.cli", "worker", "--batch", "--no-schedule", "--interval", "0.05"],
        check=False,
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr


@pytest.mark.django_db(transaction=True)
def test_a_task_claimed_by_a_dead_worker_is_queued_again_and_runs_once(tmp_path: Path) -> None:
    log = tmp_path / "runs.log"
    now = datetime.now(UTC)
    long_ago = now - stalled_after() - timedelta(minutes=1)
    orphan = append_marker.enqueue(str(log), "orphan").id
    busy = append_marker.enqueue(str(log), "busy").id
    just_claimed = append_marker.enqueue(str(log), "just-claimed").id
    _beat("dead-worker", long_ago)
    _beat("live-worker", now)
    _claimed(orphan, "dead-worker", long_ago)
    _claimed(busy, "live-worker", long_ago)  # a long task of a worker still beating
    _claimed(just_claimed, "no-beat-yet", now)  # running for less than the threshold

    assert requeue_orphaned_tasks() == 1
    assert requeue_orphaned_tasks() == 0  # queued now: not taken twice
    assert list(DBTaskResult.objects.filter(pk=orphan).values_list("status", "worker_ids")) == [
        ("READY", ["dead-worker"])
    ]
    assert DBTaskResult.objects.get(pk=busy).status == "RUNNING"
    assert DBTaskResult.objects.get(pk=just_claimed).status == "RUNNING"

    _run_worker_batch()
    assert log.read_text().split() == ["orphan"]
    rerun = DBTaskResult.objects.get(pk=orphan)
    assert rerun.status == "SUCCESSFUL" and rerun.return_value == "orphan"
    assert len(rerun.worker_ids) == 2 and rerun.worker_ids[0] == "dead-worker"
    assert rerun.worker_ids[1] != "dead-worker"
    assert set(DBTaskResult.objects.filter(status="RUNNING").values_list("pk", flat=True)) == {
        DBTaskResult.objects.get(pk=busy).pk,
        DBTaskResult.objects.get(pk=just_claimed).pk,
    }


@pytest.mark.django_db
def test_a_worker_that_stopped_beating_loses_its_task_only_after_the_threshold() -> None:
    now = datetime.now(UTC)
    row = workers_beating.enqueue().id
    _claimed(row, "quiet-worker", now - stalled_after() - timedelta(seconds=5))
    _beat("quiet-worker", now - stalled_after() + timedelta(seconds=5))
    assert requeue_orphaned_tasks(now) == 0
    assert requeue_orphaned_tasks(now + timedelta(seconds=10)) == 1
    assert DBTaskResult.objects.get(pk=row).status == "READY"


@pytest.mark.django_db
def test_beats_of_workers_long_gone_are_forgotten() -> None:
    now = datetime.now(UTC)
    _beat("gone-last-year", now - timedelta(days=365))
    _beat("live-worker", now)
    assert requeue_orphaned_tasks(now) == 0
    assert list(WorkerBeat.objects.values_list("worker_id", flat=True)) == ["live-worker"]


@pytest.mark.django_db(transaction=True)
def test_the_worker_beats_under_the_id_it_claims_with_and_leaves_no_beat_behind() -> None:
    row = workers_beating.enqueue().id
    _run_worker_batch()
    done = DBTaskResult.objects.get(pk=row)
    assert done.status == "SUCCESSFUL"
    (worker_id,) = done.worker_ids
    assert done.return_value == [worker_id]
    assert worker_id.rsplit("-", 2)[0] == os.uname().nodename[: len(worker_id.rsplit("-", 2)[0])]
    assert WorkerBeat.objects.count() == 0  # a worker that stops removes its beat


@pytest.mark.django_db
def test_the_worker_schedule_runs_the_pass_twice_per_threshold() -> None:
    from liucun.runner.scheduler import collect_schedule, tick

    (periodic,) = [p for p in collect_schedule() if p.name == "requeue-orphaned-tasks"]
    assert periodic.every == timedelta(minutes=1)  # half of the default 5 minutes is more: at most 1 min
    now = datetime.now(UTC)
    row = workers_beating.enqueue().id
    _claimed(row, "killed-worker", now - stalled_after() - timedelta(seconds=1))
    assert tick(now)["requeue-orphaned-tasks"] == 1
    assert DBTaskResult.objects.get(pk=row).status == "READY"
