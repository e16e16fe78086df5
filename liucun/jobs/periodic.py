"""What the jobs app adds to the worker's periodic schedule."""

from __future__ import annotations

from datetime import timedelta

from liucun.runner.scheduler import Periodic


def _resume_stalled_jobs() -> int:
    from liucun.jobs.registry import resume_stalled

    return resume_stalled()


PERIODIC = [Periodic("resume-stalled-jobs", timedelta(minutes=1), _resume_stalled_jobs)]
