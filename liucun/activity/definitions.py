"""What counts as activity, and the periods it is counted in: pure functions, no database.

A fan is *active* on a China day when they did something on purpose that reached the account: a message
(any category MESSAGE kind), a tap that opens WeChat's short window (menu click, scan, scan from the
menu), or another fan action (a menu link or mini program opened, photos or a location sent from the
menu, a subscription prompt answered). Follows and unfollows are not activity (the growth reports count
them), nor are WeChat's automatic location reports, job reports or the follower sync's findings.

A fan's lifecycle in a period (PostHog's lifecycle, per day, week or month) comes from the set of periods
in which the fan was active: *new* is the fan's first active period that Liucun has stored (the week of
the first interaction, not of the follow: a fan who followed and never interacted is never active),
*returning* is active in this period and the one before, *resurrecting* active in this one, not the one
before but earlier, and *dormant* active in the one before and not in this one (reports show it negative).

Every count is kept per *channel*: the fan's acquisition channel, the QR scene of the first follow event
Liucun stored for the fan (first by WeChat time, then id; readmodels.daily_follows.follow_channel), "" when
that follow had no QR scene or Liucun has no follow event for the fan. A fan who refollowed through another
QR code stays in the channel of the first follow. The channel is a function of the fan's set of events, so
a rebuild from zero and any order of incremental runs agree; and each fan is in exactly one channel, so the
numbers of all channels together (distinct fans included) are the sum of the channels' rows. When the
channel changes (the first follow arrives after the fan's interactions were counted, or a follow earlier
than the first one known), the fan's whole share moves to the new channel.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from liucun.events.kinds import FOLLOW, KINDS, MESSAGE_KINDS, Category
from liucun.menus.clicks import MENU_TAP_KINDS
from liucun.readmodels.acquisition import acquisition_channel, first_follow
from liucun.readmodels.consumer import EventRow

ACTIVE_CATEGORIES = (Category.MESSAGE, Category.WINDOW_EVENT, Category.FAN_ACTION)
ACTIVE_KINDS = frozenset(kind.name for kind in KINDS.values() if kind.category in ACTIVE_CATEGORIES)
SCAN_KINDS = frozenset({"event.scan"})
# What the consumer reads: the interactions, and follows for the fan's channel (never counted as activity).
READ_KINDS = ACTIVE_KINDS | {FOLLOW}

LIFECYCLE_COLUMNS = ("active", "new", "returning", "resurrecting", "dormant")


def group_of(kind: str) -> str:
    """The report column a kind adds to: messages, menu_taps, scans or other_actions."""
    if kind in MESSAGE_KINDS:
        return "messages"
    if kind in MENU_TAP_KINDS:
        return "menu_taps"
    if kind in SCAN_KINDS:
        return "scans"
    return "other_actions"


def _month_after(day: date) -> date:
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1)


def _month_before(day: date) -> date:
    return (day.replace(day=1) - timedelta(days=1)).replace(day=1)


# granularity -> (the period a day is in, the next period, the previous period), periods named by first day
PERIODS: dict[str, tuple[Callable[[date], date], Callable[[date], date], Callable[[date], date]]] = {
    "d": (lambda d: d, lambda p: p + timedelta(days=1), lambda p: p - timedelta(days=1)),
    "w": (
        lambda d: d - timedelta(days=d.weekday()),
        lambda p: p + timedelta(days=7),
        lambda p: p - timedelta(days=7),
    ),
    "m": (lambda d: d.replace(day=1), _month_after, _month_before),
}

# (account id, day, kind, channel, "events" | "fans") -> count
KindCounts = Counter[tuple[int, date, str, str, str]]
# (account id, granularity, period start, channel, lifecycle column) -> count
PeriodCounts = Counter[tuple[int, str, date, str, str]]


def order_key(event: EventRow) -> tuple[datetime, int]:
    return event.wechat_time, event.id


def contribution(fan_events: Iterable[EventRow], tz: ZoneInfo) -> tuple[KindCounts, PeriodCounts]:
    """What one fan's events (interactions, and follows for the channel) add to the tables: the definition
    the consumer maintains."""
    events = list(fan_events)
    channel = acquisition_channel(first_follow(events))
    kinds: KindCounts = Counter()
    periods: PeriodCounts = Counter()
    days: set[date] = set()
    fan_days: set[tuple[date, str]] = set()
    account_id = 0
    for event in events:
        if event.kind not in ACTIVE_KINDS:
            continue
        account_id = event.account_id
        day = event.wechat_time.astimezone(tz).date()
        days.add(day)
        kinds[account_id, day, event.kind, channel, "events"] += 1
        fan_days.add((day, event.kind))
    for day, kind in fan_days:
        kinds[account_id, day, kind, channel, "fans"] += 1
    for granularity, (period_of, after, before) in PERIODS.items():
        active = sorted({period_of(day) for day in days})
        for i, period in enumerate(active):
            periods[account_id, granularity, period, channel, "active"] += 1
            if i == 0:
                column = "new"
            elif before(period) in active:
                column = "returning"
            else:
                column = "resurrecting"
            periods[account_id, granularity, period, channel, column] += 1
            if after(period) not in active:
                periods[account_id, granularity, after(period), channel, "dormant"] += 1
    return kinds, periods


def step(
    event: EventRow,
    last_day: date | None,
    kind_days: dict[str, str],
    channel: str,
    *,
    tz: ZoneInfo,
    kinds: KindCounts,
    periods: PeriodCounts,
) -> None:
    """Count an interaction later than everything the fan did before (last_day: the day of the fan's
    latest one, None for a fan's first) in the fan's channel. Updates kind_days in place."""
    day = event.wechat_time.astimezone(tz).date()
    a, c = event.account_id, channel
    kinds[a, day, event.kind, c, "events"] += 1
    if kind_days.get(event.kind, "") < day.isoformat():
        kinds[a, day, event.kind, c, "fans"] += 1
        kind_days[event.kind] = day.isoformat()
    for granularity, (period_of, after, _before) in PERIODS.items():
        period = period_of(day)
        if last_day is None:
            periods[a, granularity, period, c, "active"] += 1
            periods[a, granularity, period, c, "new"] += 1
            periods[a, granularity, after(period), c, "dormant"] += 1
            continue
        last = period_of(last_day)
        if last >= period:
            continue
        periods[a, granularity, period, c, "active"] += 1
        if after(last) == period:
            periods[a, granularity, period, c, "returning"] += 1
            # The fan counted as dormant in this period since `last`: no longer.
            periods[a, granularity, period, c, "dormant"] -= 1
        else:
            periods[a, granularity, period, c, "resurrecting"] += 1
        periods[a, granularity, after(period), c, "dormant"] += 1
