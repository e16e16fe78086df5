"""Helpers of the activity tests: interactions written as the callback stores them, tables as tuples,
and a brute-force count of the event table that the consumer's tables must equal (channels included)."""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from liucun.accounts.models import OfficialAccount
from liucun.activity.definitions import ACTIVE_KINDS
from liucun.activity.models import ActivityKindDay, ActivityPeriod
from liucun.events.kinds import FOLLOW
from liucun.events.models import Event, EventSource
from liucun.wechat.messages import QR_SCENE_PREFIX

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


def kind_table() -> list[tuple[int, date, str, str, int, int]]:
    return sorted(
        ActivityKindDay.objects.values_list("account_id", "day", "kind", "channel", "events", "fans")
    )


def period_table() -> list[tuple[int, str, date, str, int, int, int, int, int]]:
    return sorted(
        ActivityPeriod.objects.values_list(
            "account_id",
            "granularity",
            "start",
            "channel",
            "active",
            "new",
            "returning",
            "resurrecting",
            "dormant",
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


def channels() -> dict[tuple[int, str], str]:
    """Each fan's acquisition channel: the QR scene of the fan's first follow by (WeChat time, id), read
    from the stored payloads (fans without a follow are in "")."""
    first: dict[tuple[int, str], tuple[datetime, int, str]] = {}
    for account_id, openid, at, event_id, payload in Event.objects.filter(kind=FOLLOW).values_list(
        "account_id", "openid", "wechat_time", "id", "payload"
    ):
        key = payload.get("EventKey") or ""
        scene = key[len(QR_SCENE_PREFIX) :] if key.startswith(QR_SCENE_PREFIX) else ""
        if (account_id, openid) not in first or (at, event_id) < first[account_id, openid][:2]:
            first[account_id, openid] = (at, event_id, scene)
    return {fan: scene for fan, (_at, _id, scene) in first.items()}


def brute_force(zone: ZoneInfo) -> tuple[list[tuple], list[tuple]]:
    """Both tables straight from the event table, period by period and channel by channel with sets of fans
    (the consumer walks fan by fan: a different route to the same definition)."""
    channel_of = channels()
    events = list(
        Event.objects.filter(kind__in=ACTIVE_KINDS).values_list("account_id", "openid", "kind", "wechat_time")
    )
    kinds: dict[tuple[int, date, str, str], tuple[int, set[str]]] = {}
    active: dict[tuple[int, str, str, date], set[str]] = {}
    for account_id, openid, kind, at in events:
        day = at.astimezone(zone).date()
        c = channel_of.get((account_id, openid), "")
        n, fans = kinds.get((account_id, day, kind, c), (0, set()))
        kinds[account_id, day, kind, c] = (n + 1, fans | {openid})
        for g in ("d", "w", "m"):
            active.setdefault((account_id, c, g, _period(g, day)), set()).add(openid)
    kind_rows = sorted((a, d, k, c, n, len(fans)) for (a, d, k, c), (n, fans) in kinds.items())
    period_rows = []
    for account_id, c, g in {(a, c, g) for a, c, g, _p in active}:
        periods = sorted(p for a, cc, gg, p in active if (a, cc, gg) == (account_id, c, g))
        seen: set[str] = set()
        period = periods[0]
        while period <= _shift(g, periods[-1], 1):
            now = active.get((account_id, c, g, period), set())
            before = active.get((account_id, c, g, _shift(g, period, -1)), set())
            row = (
                len(now),
                len(now - seen),
                len(now & before),
                len((now - before) & seen),
                len(before - now),
            )
            if any(row):
                period_rows.append((account_id, g, period, c, *row))
            seen |= now
            period = _shift(g, period, 1)
    return kind_rows, sorted(period_rows)
