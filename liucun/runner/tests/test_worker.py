"""Background jobs: enqueued in the caller's transaction, run by `liucun worker`, claimed once."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection, transaction
from django_tasks_db.models import DBTaskResult

from liucun.testing.tasks import append_marker

REPO = Path(__file__).resolve().parents[3]


def _database_url() -> str:
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    return f"postgres://{s['USER']}:{s['PASSWORD']}@{s['HOST']}:{s['PORT']}/{s['NAME']}"


@pytest.mark.django_db
def test_a_job_enqueued_in_a_rolled_back_transaction_does_not_exist(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        append_marker.enqueue(str(tmp_path / "log"), "never")
        raise RuntimeError("roll back")
    assert DBTaskResult.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_two_workers_run_each_job_exactly_once(tmp_path: Path) -> None:
    log = tmp_path / "runs.log"
    markers = [f"job-{i}" for i in range(40)]
    for marker in markers:
        append_marker.enqueue(str(log), marker)
    env = dict(os.environ, DATABASE_URL=_database_url())
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "liucun.cli", "worker", "--batch", "--interval", "0.05"],
            env=env,
            cwd=REPO,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    for worker in workers:
        _, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err
    runs = log.read_text().split()
    assert sorted(runs) == sorted(markers)
    assert DBTaskResult.objects.filter(
        status="SUCCESSFUL", task_path__endswith="append_marker"
    ).count() == len(markers)
