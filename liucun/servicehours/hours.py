"""When an account answers: `is_open` and `open_seconds_between`, read by reply rules and the inbox.

A schedule is a list of weekly intervals and a list of closed days, both in China time (Asia/Shanghai,
where every official account's fans and staff are). An account without a schedule, or with it switched
off, is always open, so counting service time degrades to counting wall time.

Reads are cached per process for CACHE_SECONDS: the callback asks on every message and must not pay a
query each time; a change made in this process is seen at once (actions.save_service_hours forgets it).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.utils.translation import gettext_lazy as _

from liucun.refusals import Refused

CHINA = ZoneInfo("Asia/Shanghai")
CACHE_SECONDS = 1.0
MAX_INTERVALS = 50
MAX_HOLIDAYS = 400
_DAY = 24 * 60


class ServiceHoursInvalid(Refused):
    code = "service_hours_invalid"


@dataclass(frozen=True)
class Schedule:
    """Minutes since local midnight per weekday (0 = Monday), merged and sorted; closed dates."""

    weekly: tuple[tuple[tuple[int, int], ...], ...]
    holidays: frozenset[date]

    def is_open(self, at: datetime) -> bool:
        local = at.astimezone(CHINA)
        if local.date() in self.holidays:
            return False
        minute = local.hour * 60 + local.minute + local.second / 60
        return any(start <= minute < end for start, end in self.weekly[local.weekday()])

    def open_seconds_between(self, start: datetime, end: datetime) -> float:
        if end <= start:
            return 0.0
        total = 0.0
        day = start.astimezone(CHINA).date()
        last = end.astimezone(CHINA).date()
        while day <= last:
            if day not in self.holidays:
                midnight = datetime(day.year, day.month, day.day, tzinfo=CHINA)
                for first, after in self.weekly[day.weekday()]:
                    opened = max(start, midnight + timedelta(minutes=first))
                    closed = min(end, midnight + timedelta(minutes=after))
                    if closed > opened:
                        total += (closed - opened).total_seconds()
            day += timedelta(days=1)
        return total


ALWAYS: Schedule | None = None  # not configured: every moment is service time


def parse_time(text: str, field: str) -> int:
    """'HH:MM' to minutes since midnight; '24:00' is the end of the day."""
    parts = text.split(":") if isinstance(text, str) else []
    if len(parts) != 2 or not all(p.isdigit() and len(p) == 2 for p in parts):
        raise ServiceHoursInvalid(_("%(field)s: “%(value)s” is not a time like 09:00."), _p(field, text))
    hours, minutes = int(parts[0]), int(parts[1])
    if minutes > 59 or hours > 24 or (hours == 24 and minutes):
        raise ServiceHoursInvalid(_("%(field)s: “%(value)s” is not a time like 09:00."), _p(field, text))
    return hours * 60 + minutes


def _p(field: str, value: object) -> dict[str, object]:
    return {"field": field, "value": value}


def build_schedule(weekly: Iterable[Sequence[object]], holidays: Iterable[str]) -> Schedule:
    """Check a stored or submitted schedule; the refusal names the entry at fault."""
    entries = list(weekly)
    days = list(holidays)
    if len(entries) > MAX_INTERVALS:
        raise ServiceHoursInvalid(_("At most %(n)d weekly intervals."), {"n": MAX_INTERVALS})
    if len(days) > MAX_HOLIDAYS:
        raise ServiceHoursInvalid(_("At most %(n)d holidays."), {"n": MAX_HOLIDAYS})
    per_day: list[list[tuple[int, int]]] = [[] for _ in range(7)]
    for index, entry in enumerate(entries, start=1):
        field = f"weekly[{index}]"
        if not isinstance(entry, list | tuple) or len(entry) != 3:
            raise ServiceHoursInvalid(_("%(field)s: give a weekday, a start and an end."), {"field": field})
        weekday, start_text, end_text = entry
        if not isinstance(weekday, int) or isinstance(weekday, bool) or not 0 <= weekday <= 6:
            raise ServiceHoursInvalid(
                _("%(field)s: the weekday is 0 (Monday) to 6 (Sunday)."), {"field": field}
            )
        start, end = parse_time(str(start_text), field), parse_time(str(end_text), field)
        if start >= end:
            raise ServiceHoursInvalid(_("%(field)s: the start must come before the end."), {"field": field})
        per_day[weekday].append((start, end))
    closed: set[date] = set()
    for index, text in enumerate(days, start=1):
        try:
            closed.add(date.fromisoformat(str(text)))
        except ValueError:
            raise ServiceHoursInvalid(
                _("%(field)s: “%(value)s” is not a date like 2026-10-01."), _p(f"holidays[{index}]", text)
            ) from None
    return Schedule(tuple(_merged(d) for d in per_day), frozenset(closed))


def _merged(intervals: list[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    # Overlapping intervals are merged so an overlap is not counted twice as service time.
    out: list[tuple[int, int]] = []
    for start, end in sorted(intervals):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return tuple(out)


_cache: dict[int, tuple[float, Schedule | None]] = {}
_lock = threading.Lock()


def schedule_for(account_id: int) -> Schedule | None:
    """The account's schedule, or None when it is always open."""
    now = time.monotonic()
    hit = _cache.get(account_id)
    if hit is not None and hit[0] > now:
        return hit[1]
    schedule = _load(account_id)
    with _lock:
        _cache[account_id] = (now + CACHE_SECONDS, schedule)
    return schedule


def forget(account_id: int | None = None) -> None:
    with _lock:
        if account_id is None:
            _cache.clear()
        else:
            _cache.pop(account_id, None)


def _load(account_id: int) -> Schedule | None:
    from liucun.servicehours.models import ServiceHours

    row = ServiceHours.objects.filter(account_id=account_id).values("enabled", "weekly", "holidays").first()
    if row is None or not row["enabled"]:
        return None
    return build_schedule(row["weekly"], row["holidays"])


def is_open(account_id: int, at: datetime) -> bool:
    schedule = schedule_for(account_id)
    return True if schedule is None else schedule.is_open(at)


def open_seconds_between(account_id: int, start: datetime, end: datetime) -> float:
    """Seconds of service time between two aware datetimes (end - start when not configured)."""
    schedule = schedule_for(account_id)
    if schedule is None:
        return max(0.0, (end - start).total_seconds())
    return schedule.open_seconds_between(start, end)
