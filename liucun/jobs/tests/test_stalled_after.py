"""LIUCUN_JOB_STALLED_AFTER_SECONDS: how long a job may go without a heartbeat before it is resumed."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.test import override_settings

from liucun.fans.models import SyncJob
from liucun.jobs import claims
from liucun.jobs.models import JobStatus, stalled_after
from liucun.jobs.registry import resume_stalled
from liucun.testing.factories import make_account

REPO = Path(__file__).resolve().parents[3]
PRINT = "import django; django.setup(); from liucun.jobs.models import stalled_after; print(stalled_after())"


def _start(value: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="liucun.settings", LIUCUN_JOB_STALLED_AFTER_SECONDS=value)
    return subprocess.run(
        [sys.executable, "-c", PRINT],
        check=False,
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_threshold_comes_from_the_environment_and_refuses_less_than_ten_seconds() -> None:
    assert _start("45").stdout.strip() == "0:00:45"
    assert _start("").stdout.strip() == "0:05:00"
    refused = _start("9")
    assert refused.returncode != 0
    assert "LIUCUN_JOB_STALLED_AFTER_SECONDS=9 is below the minimum 10" in refused.stderr
    assert "is not an integer" in _start("5m").stderr


@pytest.mark.django_db
def test_the_stalled_pass_follows_the_threshold() -> None:
    job = claims.claim(SyncJob, SyncJob.objects.create(account=make_account()).pk)
    assert job is not None
    SyncJob.objects.filter(pk=job.pk).update(heartbeat_at=datetime.now(UTC) - timedelta(seconds=60))
    job.refresh_from_db()
    assert stalled_after() == timedelta(minutes=5)
    assert not job.stalled and resume_stalled() == 0
    with override_settings(LIUCUN_JOB_STALLED_AFTER_SECONDS=30):
        assert job.stalled
        assert resume_stalled() == 1
    after = SyncJob.objects.get(pk=job.pk)
    assert (after.status, after.attempt) == (JobStatus.QUEUED, 2)
