"""Login throttling: too many failures lock logins for a while, for the console and the admin alike.

Failures are rows in the database, not a per-process cache, so every server worker sees the same count.
Three counts, each with its own limit: one username from one address (the common case: someone guessing
a password), one address for any username (spraying many usernames), and one username from anywhere
(guessing one password from many addresses). A username alone is not locked at the first limit, so a
stranger cannot lock a staff member out with five wrong passwords; the per-username limit is far higher.
The address is the client's, read through trusted proxies only (liucun.staff.client_address).
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
    user = recent.filter(username=_clean(username))
    waits = []
    for rows, limit in (
        (user.filter(ip=ip) if ip else user.filter(ip__isnull=True), settings.LIUCUN_LOGIN_MAX_FAILURES),
        (recent.filter(ip=ip) if ip else recent.none(), settings.LIUCUN_LOGIN_MAX_FAILURES_PER_IP),
        (user, settings.LIUCUN_LOGIN_MAX_FAILURES_PER_USER),
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
