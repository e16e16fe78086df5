"""Background jobs of tags. Idempotent: a finished job is left alone, a stopped one resumes."""

from __future__ import annotations

from django_tasks import task

from liucun.tags.jobs import run_job
from liucun.tags.models import TagJob


@task()
def run_tag_job(job_id: int) -> str:
    job = TagJob.objects.select_related("account", "tag").filter(pk=job_id).first()
    if job is None or job.is_over:
        return "nothing to do"
    run_job(job)
    return f"{job.kind}: {job.done}/{job.total}"
