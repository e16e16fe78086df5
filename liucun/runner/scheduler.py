"""Periodic jobs, enqueued by `liucun worker`.

Work that can be found from stored state (fans whose profile was never read, ...) is not queued by the
callback path; a periodic tick finds it and enqueues one job per account. Each tick is claimed with a
conditional UPDATE on ScheduledRun so several workers enqueue it once between them.

Each app lists its own periodic work in `<app>/periodic.py` as `PERIODIC: list[Periodic]` (importing
Periodic from here); the worker collects them from INSTALLED_APPS.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib import import_module

from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.db import close_old_connections

from liucun.runner.models import ScheduledRun

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Periodic:
    name: str
    every: timedelta
    enqueue: Callable[[], int]


def collect_schedule() -> list[Periodic]:
    """Every app's periodic work: the `PERIODIC` list of `<app>/periodic.py`, in INSTALLED_APPS order."""
    schedule: list[Periodic] = []
    for config in apps.get_app_configs():
        name = f"{config.name}.periodic"
        try:
            module = import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:  # the module exists but imports something missing: a real error
                raise
            continue
        schedule.extend(module.PERIODIC)
    names = [p.name for p in schedule]
    if len(names) != len(set(names)):
        raise ImproperlyConfigured(f"two periodic jobs share a name: {sorted(names)}")
    return schedule


def claim(name: str, every: timedelta, now: datetime) -> bool:
    ScheduledRun.objects.get_or_create(name=name, defaults={"next_run_at": now})
    return (
        ScheduledRun.objects.filter(name=name, next_run_at__lte=now).update(
            next_run_at=now + every, last_run_at=now
        )
        == 1
    )


def tick(now: datetime | None = None, schedule: list[Periodic] | None = None) -> dict[str, int]:
    """Enqueue every periodic job that is due; returns how many jobs each enqueued."""
    now = now or datetime.now(UTC)
    enqueued = {}
    for periodic in collect_schedule() if schedule is None else schedule:
        if claim(periodic.name, periodic.every, now):
            enqueued[periodic.name] = periodic.enqueue()
    return enqueued


def run_forever(stop: threading.Event, interval: float = 5.0) -> None:
    while not stop.is_set():
        try:
            tick()
        except Exception:
            log.exception("the periodic schedule failed; retrying in %.0f s", interval)
        finally:
            close_old_connections()
        stop.wait(interval)
