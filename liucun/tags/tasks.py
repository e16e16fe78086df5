"""Background jobs of tags. Idempotent: a finished job is left alone, a stopped one resumes."""

from __future__ import annotations

from django_tasks import task

from liucun.jobs import claims
from liucun.tags.jobs import run_job
from liucun.tags.models import TagJob


@task()
def run_tag_job(job_id: int, attempt: int | None = None) -> str:
    """Run or resume a tag job from its checkpoint; only the run that claims the queued job works on it."""
    job = claims.claim(TagJob, job_id, attempt)
    if job is None:
        return "nothing to do"
    try:
        run_job(job)
    except claims.Superseded:
        return "taken over by a newer run"
    return f"{job.kind}: {job.done}/{job.total}"
