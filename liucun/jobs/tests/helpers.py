"""Test support for long jobs: a worker that dies mid-way, and running what the resume pass queued."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from django.test import Client
from django_tasks_db.models import DBTaskResult

from liucun.accounts.models import OfficialAccount
from liucun.console.tests.conftest import logged_in, make_user, member
from liucun.jobs.models import LongJob, stalled_after
from liucun.staff.models import Role


class WorkerKilled(BaseException):
    """Raised where a worker would be killed: like SIGKILL, no `except Exception` handler sees it, so
    the job is left as a dead worker leaves it (running, its checkpoint committed, nothing else)."""


def silence(job: LongJob) -> None:
    """The dead worker's job a while later: no heartbeat for longer than stalled_after()."""
    long_ago = datetime.now(UTC) - stalled_after() - timedelta(minutes=1)
    type(job)._default_manager.filter(pk=job.pk).update(heartbeat_at=long_ago)
    job.refresh_from_db()


def queued_args(task: Any) -> list[list[Any]]:
    """The arguments of every queued run of a task, oldest first."""
    rows = DBTaskResult.objects.filter(task_path=task.module_path).order_by("enqueued_at", "id")
    return [list(row.args_kwargs["args"]) for row in rows]


def run_last_queued(task: Any) -> Any:
    """Run the task as a worker would take its newest queued run."""
    return task.call(*queued_args(task)[-1])


def staff_client(account: OfficialAccount, role: Role = Role.AGENT) -> Client:
    """A logged-in console user with this role on the account (the same user on a second call)."""
    from django.contrib.auth import get_user_model

    username = f"{role}-{account.appid}"
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        user = member(make_user(username), account, role)
    return logged_in(user)
