"""Histories of long jobs (follower syncs, CSV imports): filtered by status, newest or oldest first."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator
from django.db.models import QuerySet, TextChoices

from liucun.console.scope import ConsoleRequest

PAGE_SIZE = 20


def job_history(request: ConsoleRequest, jobs: QuerySet[Any], statuses: type[TextChoices]) -> dict[str, Any]:
    """The template context of a job list: `page`, and the `status` filter with its `statuses`."""
    status = request.GET.get("status", "")
    if status in statuses.values:
        jobs = jobs.filter(status=status)
    else:
        status = ""
    ordered = jobs.order_by("id" if request.GET.get("ordering") == "id" else "-id")
    page = Paginator(ordered, PAGE_SIZE).get_page(request.GET.get("page"))
    return {"page": page, "status": status, "statuses": statuses.choices}
