"""Login throttling: too many failures for one username, or from one address, lock logins for a while.

Failures are rows in the database, not a per-process cache, so every server worker sees the same count.
Counting per username stops guessing one staff member's password from many addresses; counting per
address stops spraying many usernames from one.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import transaction

from liucun.staff.models import LoginFailure


def _window() -> timedelta:
    return timedelta(seconds=settings.LIUCUN_LOGIN_LOCK_SECONDS)


def _clean(username: str) -> str:
    return username.strip().lower()[:150]


def locked_for(username: str, ip: str | None, now: datetime | None = None) -> int:
    """Seconds until a login for `username` from `ip` may be tried again; 0 when it may be tried now."""
    now = now or datetime.now(UTC)
    since = now - _window()
    recent = LoginFailure.objects.filter(at__gte=since)
    waits = []
    for rows, limit in (
        (recent.filter(username=_clean(username)), settings.LIUCUN_LOGIN_MAX_FAILURES),
        (recent.filter(ip=ip) if ip else recent.none(), settings.LIUCUN_LOGIN_MAX_FAILURES_PER_IP),
    ):
        times = list(rows.order_by("-at").values_list("at", flat=True)[:limit])
        if len(times) >= limit:
            # Locked until the oldest of the last `limit` failures leaves the window.
            waits.append(int((times[-1] + _window() - now).total_seconds()) + 1)
    return max(waits, default=0)


@transaction.atomic
def record_failure(username: str, ip: str | None) -> None:
    LoginFailure.objects.filter(at__lt=datetime.now(UTC) - _window()).delete()
    LoginFailure.objects.create(username=_clean(username), ip=ip or None)


def clear(username: str) -> None:
    LoginFailure.objects.filter(username=_clean(username)).delete()
