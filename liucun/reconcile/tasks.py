"""Background jobs of the reconciliation app. Each is idempotent: a pulled day is replaced, not added."""

from __future__ import annotations

from django_tasks import task

from liucun.reconcile.pulling import run_pull


@task()
def pull_datacube(account_id: int, force: bool = False) -> str:
    """Pull the account's missing days of WeChat's follower statistics; returns how it ended."""
    outcome = run_pull(account_id, force=force)
    return f"{outcome.status}: {outcome.days_pulled} days"
