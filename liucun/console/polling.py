"""Live progress on long jobs: a job's row polls itself with htmx until the job is over."""

from __future__ import annotations

from liucun.console.scope import ConsoleRequest

# htmx stops polling when a response has this status (the job is over, nothing more to show).
STOP_POLLING = 286


def progress_status(request: ConsoleRequest, over: bool) -> int:
    """The status for a progress row: stop the polling once the job is over, a plain 200 otherwise."""
    return STOP_POLLING if over and request.htmx else 200
