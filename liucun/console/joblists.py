"""Histories of long jobs (follower syncs, tag jobs, CSV imports): by status, newest or oldest first."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator
from django.db.models import QuerySet, TextChoices

from liucun.console.scope import ConsoleRequest

PAGE_SIZE = 20


def job_history(
    request: ConsoleRequest, jobs: QuerySet[Any], statuses: type[TextChoices] | None = None
) -> dict[str, Any]:
    """The template context of a job list: `page`, and the `status` filter with its `statuses` (by
    default the choices of the job model's status field)."""
    choices = statuses.choices if statuses else list(jobs.model._meta.get_field("status").choices or [])
    status = request.GET.get("status", "")
    if status in {value for value, _label in choices}:
        jobs = jobs.filter(status=status)
    else:
        status = ""
    ordered = jobs.order_by("id" if request.GET.get("ordering") == "id" else "-id")
    page = Paginator(ordered, PAGE_SIZE).get_page(request.GET.get("page"))
    return {"page": page, "status": status, "statuses": choices}
