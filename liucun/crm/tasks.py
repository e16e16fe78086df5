"""Background jobs of the CRM app. Each is idempotent: running it twice leaves the same state."""

from __future__ import annotations

from django_tasks import task


@task()
def run_import_job(job_id: int, attempt: int) -> str:
    """Check or apply a large import; a job already finished, or re-run since, is left alone."""
    from liucun.crm.imports import run_import

    return run_import(job_id, attempt)


@task()
def drop_stale_uploads() -> int:
    """Forget uploaded files never applied within a day (they hold personal data)."""
    from liucun.crm.upkeep import drop_stale_uploads as drop

    return drop()
