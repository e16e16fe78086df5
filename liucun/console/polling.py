"""Live progress on long jobs: a job's row polls itself with htmx until the job is over."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.shortcuts import render

from liucun.console.scope import ConsoleRequest
from liucun.jobs.models import LongJob

# htmx stops polling when a response has this status (the job is over, nothing more to show).
STOP_POLLING = 286


def progress_status(request: ConsoleRequest, over: bool) -> int:
    """The status for a progress row: stop the polling once the job is over, a plain 200 otherwise."""
    return STOP_POLLING if over and request.htmx else 200


def progress_row(request: ConsoleRequest, job: LongJob, template: str, **context: Any) -> HttpResponse:
    """A job's row (or card) as its poll sees it, telling htmx to stop once the job is over."""
    status = progress_status(request, job.is_over)
    return render(request, template, {"job": job, **context}, status=status)
