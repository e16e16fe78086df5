"""What the jobs app adds to the worker's periodic schedule."""

from __future__ import annotations

from datetime import timedelta

from liucun.jobs.models import stalled_after
from liucun.runner.scheduler import Periodic


def _resume_stalled_jobs() -> int:
    from liucun.jobs.registry import resume_stalled

    return resume_stalled()


# Twice per threshold (at most every minute), so a dead worker's job waits at most 1.5 thresholds.
PERIODIC = [
    Periodic("resume-stalled-jobs", min(timedelta(minutes=1), stalled_after() / 2), _resume_stalled_jobs)
]
