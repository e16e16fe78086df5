"""Read-side of menus: button names for the console's event lines, drafts, history, and statistics."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection
from django.db.models import Q, Sum
from django.utils.translation import gettext_lazy as _

from liucun.fans.models import FollowPeriod
from liucun.menus.models import ButtonName, ClickScope, MenuClickDayAll
from liucun.menus.spec import MenuRefused

_REQUEST_CACHE = "_liucun_menu_button_names"
MAX_PERIOD_DAYS = 366


def button_names(account_id: int) -> dict[str, str]:
    """key (or a view button's URL) -> the button's name, from published menus and drafts (one query)."""
    return dict(ButtonName.objects.filter(account_id=account_id).values_list("key", "name"))


def button_names_for(request: Any, account_id: int) -> dict[str, str]:
    """button_names, read once per request however many event lines a page shows."""
    cache: dict[int, dict[str, str]] = getattr(request, _REQUEST_CACHE, None) or {}
    if account_id not in cache:
        cache[account_id] = button_names(account_id)
        setattr(request, _REQUEST_CACHE, cache)
    return cache[account_id]


@dataclass(frozen=True)
class ButtonStats:
    button: str  # the key, or a view button's URL
    name: str  # "" when no menu named it
    clicks: int
    fan_days: int  # the sum of each day's distinct fans
    fans: int  # distinct fans over the whole period


@dataclass(frozen=True)
class MenuStats:
    start: date
    end: date
    buttons: list[ButtonStats]
    days: list[date]
    # button -> clicks per day, in the order of `days` (the chart's series)
    daily: dict[str, list[int]]
    clicking_fans: int  # distinct fans who tapped any button in the period
    following_at_end: int  # fans following at the end of the period's last day (from follow periods)

    @property
    def click_rate(self) -> float | None:
        return self.clicking_fans / self.following_at_end if self.following_at_end else None


@dataclass(frozen=True)
class RangeFans:
    """Distinct fans who tapped in a range: per button, any button, any web page (link button)."""

    buttons: dict[str, int]
    any: int
    web: int


# {last}, {gap}: one channel's tables (and {channel} its condition), or every channel's at once.
_FANS_SINCE = (
    "SELECT scope, button, SUM(fans) FROM {last} WHERE account_id = %s AND day >= %s{channel} "
    "GROUP BY scope, button UNION ALL "
    "SELECT scope, button, -SUM(fans) FROM {gap} WHERE account_id = %s AND day > %s "
    "AND previous < %s{channel} GROUP BY scope, button"
)
_FANS_WITHIN = (
    "SELECT scope, button, SUM(fans) FROM {gap} WHERE account_id = %s AND day >= %s "
    "AND day <= %s AND previous < %s{channel} GROUP BY scope, button"
)
_EVERY_CHANNEL = {"last": "menus_menuclicklastall", "gap": "menus_menuclickgapall", "channel": ""}
_ONE_CHANNEL = {"last": "menus_menuclicklast", "gap": "menus_menuclickgap", "channel": " AND channel = %s"}


def range_fans(account_id: int, start: date, end: date, channel: str | None = None) -> RangeFans:
    """Exact distinct tapping fans over [start, end], from MenuClickGap and MenuClickLast (menus/clicks.py),
    of one channel, or of every channel (None: from the rows kept for every channel at once).

    A fan tapped in the range when it has a tap on some day in it whose previous tap (on that button, or
    any) is before `start`: one MenuClickGap row per such first tap, so summing the range's rows counts
    each fan once. When fewer days follow the range than it spans (a range ending today: none), fewer
    rows answer it the other way round: the fans whose last tap is on or after `start` (MenuClickLast)
    less those whose first tap since `start` comes after `end`. Either way one query, and rows per day
    and button, never one per fan; which way is only a matter of cost (today's date guesses it).
    """
    # Django's cursor, not the driver's, so the query is counted like any other page query.
    d = (lambda day: day) if connection.vendor == "postgresql" else (lambda day: day.isoformat())
    tables, channel_params = (_EVERY_CHANNEL, []) if channel is None else (_ONE_CHANNEL, [channel])
    if (today() - end).days < (end - start).days + 1:
        statement = _FANS_SINCE.format(**tables)
        params = [account_id, d(start), *channel_params, account_id, d(end), d(start), *channel_params]
    else:
        statement = _FANS_WITHIN.format(**tables)
        params = [account_id, d(start), d(end), d(start), *channel_params]
    counts: Counter[tuple[str, str]] = Counter()
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        for scope, button, n in cursor.fetchall():
            counts[scope, button] += n
    return RangeFans(
        buttons={b: n for (s, b), n in counts.items() if s == ClickScope.BUTTON and n},
        any=counts[ClickScope.ANY, ""],
        web=counts[ClickScope.WEB, ""],
    )


def menu_stats(account_id: int, start: date, end: date) -> MenuStats:
    """Clicks and unique fans per button over [start, end] (days in the site's time zone), and the menu
    click rate: distinct clicking fans / fans following at the end of `end`; of every channel (the rows
    kept for every channel at once)."""
    in_period = Q(account_id=account_id, day__gte=start, day__lte=end)
    names = button_names(account_id)
    totals = {
        row["button"]: row
        for row in MenuClickDayAll.objects.filter(in_period)
        .values("button")
        .annotate(clicks_sum=Sum("clicks"), fan_days=Sum("fans"))
    }
    fans = range_fans(account_id, start, end)
    distinct = fans.buttons
    buttons = sorted(
        (
            ButtonStats(
                button=b,
                name=names.get(b, ""),
                clicks=row["clicks_sum"] or 0,
                fan_days=row["fan_days"] or 0,
                fans=distinct.get(b, 0),
            )
            for b, row in totals.items()
        ),
        key=lambda s: (-s.clicks, s.button),
    )
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    index = {d: i for i, d in enumerate(days)}
    daily: dict[str, list[int]] = {s.button: [0] * len(days) for s in buttons}
    for day, button, clicks in MenuClickDayAll.objects.filter(in_period).values_list(
        "day", "button", "clicks"
    ):
        daily[button][index[day]] = clicks
    return MenuStats(start, end, buttons, days, daily, fans.any, following_at(account_id, end))


def following_at(account_id: int, day: date) -> int:
    """Fans following at the end of `day` (site time zone), from their follow periods."""
    instant = datetime.combine(day + timedelta(days=1), time.min, tzinfo=ZoneInfo(settings.TIME_ZONE))
    periods = FollowPeriod.objects.filter(account_id=account_id).filter(
        Q(followed_at__isnull=True) | Q(followed_at__lt=instant),
        Q(unfollowed_at__isnull=True) | Q(unfollowed_at__gte=instant),
    )
    return periods.values("fan_id").distinct().count()


def today() -> date:
    return datetime.now(ZoneInfo(settings.TIME_ZONE)).date()


def period_of(start: date | None, end: date | None) -> tuple[date, date]:
    """A statistics period: by default the 30 days up to today; at most MAX_PERIOD_DAYS days."""
    end = end or today()
    start = start or end - timedelta(days=29)
    if start > end:
        raise MenuRefused(_("The period starts after it ends."))
    if (end - start).days + 1 > MAX_PERIOD_DAYS:
        raise MenuRefused(_("A period is at most %(n)d days."), {"n": MAX_PERIOD_DAYS})
    return start, end
