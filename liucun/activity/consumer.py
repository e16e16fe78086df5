"""The fan-activity consumer: interactions per day and kind, active fans and lifecycle per day/week/month.

What the tables hold is a function of the *set* of interaction events (definitions.contribution), never of
the order they arrived in: an event's day is the day of its WeChat time in the site's time zone, so a late
retry or an imported history lands on the day it happened. Most events are later than everything the fan
did before and are counted from the fan's cursor without a query (definitions.step). An event older than
the fan's latest handled one may change how the fan's later ones count (a new first week, a gap filled):
the fan's interactions are read back (event_fan_timeline index) and the fan's counts are replaced by the
difference with and without it. Hence a rebuild from zero gives the rows the incremental runs gave; it is
set-based (activity/bulk.py, ADR 21) and leaves the cursors the incremental runs carry on from.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection

from liucun.activity import bulk
from liucun.activity.definitions import (
    ACTIVE_KINDS,
    LIFECYCLE_COLUMNS,
    KindCounts,
    PeriodCounts,
    contribution,
    order_key,
    step,
)
from liucun.activity.models import ActivityFanCursor, ActivityKindDay, ActivityPeriod
from liucun.rawsql import Sql
from liucun.readmodels.consumer import Consumer, EventRow
from liucun.readmodels.fanhistory import fan_histories, fans_out_of_order

CHUNK = 500  # rows per IN (...) or executemany slice: far below SQLite's variable limit
FanKey = tuple[int, str]

_UPSERT_CURSOR = (
    "INSERT INTO activity_activityfancursor (account_id, openid, last_at, last_event_id, kind_days) "
    "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (account_id, openid) DO UPDATE SET "
    "last_at = excluded.last_at, last_event_id = excluded.last_event_id, kind_days = excluded.kind_days"
)


@dataclass
class _Cursor:
    last_at: datetime
    last_event_id: int
    kind_days: dict[str, str]


@dataclass
class _Plan:
    cursors: list[list[Any]] = field(default_factory=list)
    kind_inserts: list[ActivityKindDay] = field(default_factory=list)
    kind_updates: list[ActivityKindDay] = field(default_factory=list)
    kind_deletes: list[int] = field(default_factory=list)
    period_inserts: list[ActivityPeriod] = field(default_factory=list)
    period_updates: list[ActivityPeriod] = field(default_factory=list)
    period_deletes: list[int] = field(default_factory=list)


class ActivityConsumer(Consumer):
    name = "fan-activity"
    kinds = ACTIVE_KINDS
    version = 1

    def __init__(self, time_zone: str | None = None) -> None:
        self.tz = ZoneInfo(time_zone or settings.TIME_ZONE)
        self._staged_upto: int | None = None  # the last_id prepare_bulk staged rows for

    def fingerprint(self) -> str:
        # Days depend on the time zone: tables built in another zone must be rebuilt, not extended.
        return f"v{self.version}:{self.tz.key}"

    def reset(self) -> None:
        ActivityKindDay.objects.all().delete()
        ActivityPeriod.objects.all().delete()
        ActivityFanCursor.objects.all().delete()

    # A rebuild fills the tables set-based (activity/bulk.py): a replay folds at most a few thousand events
    # a second, hours for a year of a million fans.
    def prepare_bulk(self, last_id: int) -> None:
        bulk.stage(last_id, self.tz)
        self._staged_upto = last_id

    def rebuild_bulk(self, last_id: int) -> bool:
        if self._staged_upto != last_id:
            bulk.stage(last_id, self.tz)
            self._staged_upto = last_id
        bulk.copy()
        return True

    def finish_bulk(self) -> None:
        bulk.drop()
        self._staged_upto = None

    def prepare(self, events: Sequence[EventRow]) -> _Plan:
        cursors = _load_cursors(events)
        latest = {key: (c.last_at, c.last_event_id) for key, c in cursors.items()}
        histories = fan_histories(fans_out_of_order(events, latest), ACTIVE_KINDS)
        kinds: KindCounts = Counter()
        periods: PeriodCounts = Counter()
        touched: set[FanKey] = set()
        for event in events:
            key = (event.account_id, event.openid)
            cursor = cursors.get(key)
            if cursor is None or order_key(event) > (cursor.last_at, cursor.last_event_id):
                last_day = cursor.last_at.astimezone(self.tz).date() if cursor else None
                kind_days = dict(cursor.kind_days) if cursor else {}
                step(event, last_day, kind_days, tz=self.tz, kinds=kinds, periods=periods)
                cursors[key] = _Cursor(event.wechat_time, event.id, kind_days)
            else:
                cursors[key] = self._backdated(event, histories[key], kinds, periods)
            touched.add(key)
        sql = Sql(connection)
        plan = _Plan()
        plan.cursors = [
            [a, openid, sql.dt(c.last_at), c.last_event_id, json.dumps(c.kind_days, sort_keys=True)]
            for (a, openid), c in ((key, cursors[key]) for key in sorted(touched))
        ]
        _kind_changes(kinds, plan)
        _period_changes(periods, plan)
        return plan

    def apply(self, plan: _Plan) -> None:
        sql = Sql(connection)
        cursor = sql.cursor()
        try:
            for start in range(0, len(plan.cursors), CHUNK):
                sql.executemany(cursor, _UPSERT_CURSOR, plan.cursors[start : start + CHUNK])
        finally:
            cursor.close()
        ActivityKindDay.objects.bulk_create(plan.kind_inserts, batch_size=CHUNK)
        ActivityKindDay.objects.bulk_update(plan.kind_updates, ["events", "fans"], batch_size=CHUNK)
        ActivityPeriod.objects.bulk_create(plan.period_inserts, batch_size=CHUNK)
        ActivityPeriod.objects.bulk_update(plan.period_updates, list(LIFECYCLE_COLUMNS), batch_size=CHUNK)
        for ids, model in ((plan.kind_deletes, ActivityKindDay), (plan.period_deletes, ActivityPeriod)):
            for start in range(0, len(ids), CHUNK):
                model.objects.filter(pk__in=ids[start : start + CHUNK]).delete()

    def _backdated(
        self, event: EventRow, history: list[EventRow], kinds: KindCounts, periods: PeriodCounts
    ) -> _Cursor:
        # Everything with a lower id has been handled (the runner reads in id order and passes a gap only
        # once it is final), so the fan's counts so far are exactly contribution(earlier).
        earlier = [e for e in history if e.id < event.id]
        before_kinds, before_periods = contribution(earlier, self.tz)
        after_kinds, after_periods = contribution([*earlier, event], self.tz)
        kinds.update(after_kinds)
        kinds.subtract(before_kinds)
        periods.update(after_periods)
        periods.subtract(before_periods)
        everything = [*earlier, event]
        latest = max(everything, key=order_key)
        kind_days: dict[str, str] = {}
        for e in everything:
            day = e.wechat_time.astimezone(self.tz).date().isoformat()
            kind_days[e.kind] = max(kind_days.get(e.kind, ""), day)
        return _Cursor(latest.wechat_time, latest.id, kind_days)


def _load_cursors(events: Sequence[EventRow]) -> dict[FanKey, _Cursor]:
    by_account: dict[int, set[str]] = {}
    for event in events:
        by_account.setdefault(event.account_id, set()).add(event.openid)
    cursors: dict[FanKey, _Cursor] = {}
    for account_id, openids in by_account.items():
        ordered = sorted(openids)
        for start in range(0, len(ordered), CHUNK):
            rows = ActivityFanCursor.objects.filter(
                account_id=account_id, openid__in=ordered[start : start + CHUNK]
            ).values_list("openid", "last_at", "last_event_id", "kind_days")
            for openid, last_at, last_event_id, kind_days in rows:
                cursors[account_id, openid] = _Cursor(last_at, last_event_id, json.loads(kind_days))
    return cursors


def _kind_changes(counts: KindCounts, plan: _Plan) -> None:
    deltas: dict[tuple[int, date, str], dict[str, int]] = {}
    for (account_id, day, kind, column), n in counts.items():
        if n:
            deltas.setdefault((account_id, day, kind), {"events": 0, "fans": 0})[column] += n
    existing: dict[tuple[int, date, str], ActivityKindDay] = {}
    for account_id, days in _grouped({(a, d) for a, d, _k in deltas}).items():
        for start in range(0, len(days), CHUNK):
            for row in ActivityKindDay.objects.filter(
                account_id=account_id, day__in=days[start : start + CHUNK]
            ):
                existing[account_id, row.day, row.kind] = row
    for (account_id, day, kind), delta in sorted(deltas.items()):
        found = existing.get((account_id, day, kind))
        row = (
            found
            if found is not None
            else ActivityKindDay(account_id=account_id, day=day, kind=kind, events=0, fans=0)
        )
        row.events += delta["events"]
        row.fans += delta["fans"]
        _place(row, row.events or row.fans, plan.kind_inserts, plan.kind_updates, plan.kind_deletes)


def _period_changes(counts: PeriodCounts, plan: _Plan) -> None:
    deltas: dict[tuple[int, str, date], dict[str, int]] = {}
    for (account_id, granularity, start, column), n in counts.items():
        if n:
            deltas.setdefault((account_id, granularity, start), dict.fromkeys(LIFECYCLE_COLUMNS, 0))[
                column
            ] += n
    existing: dict[tuple[int, str, date], ActivityPeriod] = {}
    for account_id, starts in _grouped({(a, s) for a, _g, s in deltas}).items():
        for i in range(0, len(starts), CHUNK):
            for row in ActivityPeriod.objects.filter(account_id=account_id, start__in=starts[i : i + CHUNK]):
                existing[account_id, row.granularity, row.start] = row
    for (account_id, granularity, start), delta in sorted(deltas.items()):
        found = existing.get((account_id, granularity, start))
        row = (
            found
            if found is not None
            else ActivityPeriod(account_id=account_id, granularity=granularity, start=start)
        )
        for column in LIFECYCLE_COLUMNS:
            setattr(row, column, getattr(row, column) + delta[column])
        values = any(getattr(row, column) for column in LIFECYCLE_COLUMNS)
        _place(row, values, plan.period_inserts, plan.period_updates, plan.period_deletes)


def _place(row: Any, keep: object, inserts: list[Any], updates: list[Any], deletes: list[int]) -> None:
    if row.pk is None:
        if keep:
            inserts.append(row)
    elif keep:
        updates.append(row)
    else:
        # A backdated event moved the row's only counts elsewhere: a rebuild would have no row.
        deletes.append(row.pk)


def _grouped(pairs: set[tuple[int, date]]) -> dict[int, list[date]]:
    grouped: dict[int, set[date]] = {}
    for account_id, day in pairs:
        grouped.setdefault(account_id, set()).add(day)
    return {a: sorted(days) for a, days in grouped.items()}
