"""Helpers of the activity tests: interactions written as the callback stores them, tables as tuples,
and a brute-force count of the event table that the consumer's tables must equal."""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from liucun.accounts.models import OfficialAccount
from liucun.activity.definitions import ACTIVE_KINDS
from liucun.activity.models import ActivityKindDay, ActivityPeriod
from liucun.events.models import Event, EventSource

_serial = itertools.count(1)


def add_interaction(account: OfficialAccount, openid: str, kind: str, at: datetime, key: str = "") -> Event:
    payload: dict[str, str] = {"FromUserName": openid}
    if kind.startswith("event."):
        payload |= {"MsgType": "event", "Event": kind.removeprefix("event."), "EventKey": key}
    else:
        payload |= {"MsgType": kind, "Content": "hi"}
    return Event.objects.create(
        account=account,
        openid=openid,
        kind=kind,
        dedupe_key=f"act:{next(_serial)}",
        wechat_time=at,
        received_at=at,
        source=EventSource.CALLBACK,
        payload=payload,
    )


def kind_table() -> list[tuple[int, date, str, int, int]]:
    return sorted(ActivityKindDay.objects.values_list("account_id", "day", "kind", "events", "fans"))


def period_table() -> list[tuple[int, str, date, int, int, int, int, int]]:
    return sorted(
        ActivityPeriod.objects.values_list(
            "account_id", "granularity", "start", "active", "new", "returning", "resurrecting", "dormant"
        )
    )


def _period(granularity: str, day: date) -> date:
    if granularity == "w":
        return day - timedelta(days=day.weekday())
    if granularity == "m":
        return day.replace(day=1)
    return day


def _shift(granularity: str, period: date, n: int) -> date:
    if granularity == "m":
        month = period.year * 12 + period.month - 1 + n
        return date(month // 12, month % 12 + 1, 1)
    return period + timedelta(days=n * (7 if granularity == "w" else 1))


def brute_force(zone: ZoneInfo) -> tuple[list[tuple], list[tuple]]:
    """Both tables straight from the event table, period by period with sets of fans (the consumer walks
    fan by fan: a different route to the same definition)."""
    events = list(
        Event.objects.filter(kind__in=ACTIVE_KINDS).values_list("account_id", "openid", "kind", "wechat_time")
    )
    kinds: dict[tuple[int, date, str], tuple[int, set[str]]] = {}
    active: dict[tuple[int, str, date], set[str]] = {}
    for account_id, openid, kind, at in events:
        day = at.astimezone(zone).date()
        n, fans = kinds.get((account_id, day, kind), (0, set()))
        kinds[account_id, day, kind] = (n + 1, fans | {openid})
        for g in ("d", "w", "m"):
            active.setdefault((account_id, g, _period(g, day)), set()).add(openid)
    kind_rows = sorted((a, d, k, n, len(fans)) for (a, d, k), (n, fans) in kinds.items())
    period_rows = []
    for account_id, g in {(a, g) for a, g, _p in active}:
        periods = sorted(p for a, gg, p in active if (a, gg) == (account_id, g))
        seen: set[str] = set()
        period = periods[0]
        while period <= _shift(g, periods[-1], 1):
            now = active.get((account_id, g, period), set())
            before = active.get((account_id, g, _shift(g, period, -1)), set())
            row = (
                len(now),
                len(now - seen),
                len(now & before),
                len((now - before) & seen),
                len(before - now),
            )
            if any(row):
                period_rows.append((account_id, g, period, *row))
            seen |= now
            period = _shift(g, period, 1)
    return kind_rows, sorted(period_rows)
