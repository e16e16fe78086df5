"""The fan-activity consumer: interactions per day, kind and channel, active fans and lifecycle per day, week
and month and channel.

What the tables hold is a function of the *set* of interaction and follow events (definitions.contribution),
never of the order they arrived in: an event's day is the day of its WeChat time in the site's time zone, so a
late retry or an imported history lands on the day it happened, and a fan's channel is the QR scene of the
fan's first follow event. Follows are read for the channel only, never counted as activity. Most events are
later than everything the fan did before and are counted from the fan's cursor without a query
(definitions.step, in the cursor's channel); a follow later than the fan's first one changes nothing. Two
kinds of event change how the fan's earlier ones count: an interaction older than the fan's latest handled
one (a new first week, a gap filled) and a follow that becomes the fan's first with another channel than
the one the fan's interactions were counted in (the whole share moves). For those the fan's events are read
back (event_fan_timeline index) and the fan's counts are replaced by the difference with and without it.
Hence a rebuild from zero gives the rows the incremental runs gave; it is set-based (activity/bulk.py, ADR 21)
and leaves the cursors the incremental runs carry on from.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection

from liucun.activity import bulk
from liucun.activity.definitions import (
    ACTIVE_KINDS,
    LIFECYCLE_COLUMNS,
    READ_KINDS,
    KindCounts,
    PeriodCounts,
    acquisition_channel,
    contribution,
    first_follow,
    order_key,
    step,
)
from liucun.activity.models import ActivityFanCursor, ActivityKindDay, ActivityPeriod
from liucun.events.kinds import FOLLOW
from liucun.rawsql import Sql
from liucun.readmodels.consumer import EventRow, StagedBulkConsumer, StagedCopy
from liucun.readmodels.daily_follows import follow_channel
from liucun.readmodels.fanhistory import fan_histories

CHUNK = 500  # rows per IN (...) or executemany slice: far below SQLite's variable limit
FanKey = tuple[int, str]
Order = tuple[datetime, int]

_UPSERT_CURSOR = (
    "INSERT INTO activity_activityfancursor (account_id, openid, last_at, last_event_id, kind_days, channel, "
    "first_follow_at, first_follow_id) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (account_id, openid) DO UPDATE SET "
    "last_at = excluded.last_at, last_event_id = excluded.last_event_id, kind_days = excluded.kind_days, "
    "channel = excluded.channel, first_follow_at = excluded.first_follow_at, "
    "first_follow_id = excluded.first_follow_id"
)


@dataclass(frozen=True)
class _Cursor:
    latest: Order | None  # the fan's latest interaction handled; None: none yet
    kind_days: dict[str, str]
    channel: str
    first_follow: Order | None  # the fan's first follow event; None: none seen

    def row(self, key: FanKey, sql: Sql) -> list[Any]:
        last_at, last_id = self.latest or (None, None)
        follow_at, follow_id = self.first_follow or (None, None)
        return [
            *key,
            sql.dt(last_at) if last_at else None,
            last_id,
            json.dumps(self.kind_days, sort_keys=True),
            self.channel,
            sql.dt(follow_at) if follow_at else None,
            follow_id,
        ]


_NONE_YET = _Cursor(None, {}, "", None)


@dataclass
class _Plan:
    cursors: list[list[Any]] = field(default_factory=list)
    kind_inserts: list[ActivityKindDay] = field(default_factory=list)
    kind_updates: list[ActivityKindDay] = field(default_factory=list)
    kind_deletes: list[int] = field(default_factory=list)
    period_inserts: list[ActivityPeriod] = field(default_factory=list)
    period_updates: list[ActivityPeriod] = field(default_factory=list)
    period_deletes: list[int] = field(default_factory=list)


@dataclass
class _Fold:
    """A batch folded into counts and cursors; `missing`: fans whose history it needed and did not have
    (their events from that one on were left for a second fold with their histories)."""

    kinds: KindCounts = field(default_factory=Counter)
    periods: PeriodCounts = field(default_factory=Counter)
    cursors: dict[FanKey, _Cursor] = field(default_factory=dict)
    touched: set[FanKey] = field(default_factory=set)
    missing: set[FanKey] = field(default_factory=set)


class ActivityConsumer(StagedBulkConsumer):
    name = "fan-activity"
    kinds = READ_KINDS
    payload_fields = ("EventKey",)  # a follow's QR scene
    version = 2  # 2: per acquisition channel

    def __init__(self, time_zone: str | None = None) -> None:
        self.tz = ZoneInfo(time_zone or settings.TIME_ZONE)

    def fingerprint(self) -> str:
        # Days depend on the time zone: tables built in another zone must be rebuilt, not extended.
        return f"v{self.version}:{self.tz.key}"

    def reset(self) -> None:
        ActivityKindDay.objects.all().delete()
        ActivityPeriod.objects.all().delete()
        ActivityFanCursor.objects.all().delete()

    # A rebuild fills the tables set-based (activity/bulk.py): a replay folds at most a few thousand events
    # a second, hours for a year of a million fans.
    def stage_bulk(self, last_id: int) -> None:
        bulk.stage(last_id, self.tz)

    def copies(self) -> list[StagedCopy]:
        return bulk.copies()

    def drop_bulk(self) -> None:
        bulk.drop()

    def prepare(self, events: Sequence[EventRow]) -> _Plan:
        cursors = _load_cursors(events)
        # Which fans need their history read back shows while folding; the fans are independent, so a
        # second fold with those histories gives every fan's exact counts (most batches need none).
        folded = self._fold(events, cursors, {})
        if folded.missing:
            histories = fan_histories(folded.missing, READ_KINDS, self.payload_fields)
            folded = self._fold(events, cursors, histories)
            assert not folded.missing
        sql = Sql(connection)
        plan = _Plan()
        plan.cursors = [folded.cursors[key].row(key, sql) for key in sorted(folded.touched)]
        _kind_changes(folded.kinds, plan)
        _period_changes(folded.periods, plan)
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

    def _fold(
        self,
        events: Sequence[EventRow],
        cursors: dict[FanKey, _Cursor],
        histories: dict[FanKey, list[EventRow]],
    ) -> _Fold:
        fold = _Fold(cursors=dict(cursors))
        for event in events:
            key = (event.account_id, event.openid)
            if key in fold.missing:
                continue
            cursor = fold.cursors.get(key, _NONE_YET)
            if not self._in_order(event, cursor, fold):
                if key not in histories:
                    fold.missing.add(key)
                    continue
                fold.cursors[key] = self._rederived(event, histories[key], fold)
            fold.touched.add(key)
        return fold

    def _in_order(self, event: EventRow, cursor: _Cursor, fold: _Fold) -> bool:
        """Count an event from the fan's cursor alone, if it can be (False: the fan's history is needed)."""
        key, order = (event.account_id, event.openid), order_key(event)
        if event.kind == FOLLOW:
            if cursor.first_follow is not None and order > cursor.first_follow:
                return True  # a refollow: the channel stays the first follow's
            channel = follow_channel(event.fields.get("EventKey"))
            if cursor.latest is not None and channel != cursor.channel:
                return False  # the fan's counted interactions move to another channel
            fold.cursors[key] = replace(cursor, channel=channel, first_follow=order)
            return True
        if cursor.latest is not None and order < cursor.latest:
            return False
        last_day = cursor.latest[0].astimezone(self.tz).date() if cursor.latest else None
        kind_days = dict(cursor.kind_days)
        step(event, last_day, kind_days, cursor.channel, tz=self.tz, kinds=fold.kinds, periods=fold.periods)
        fold.cursors[key] = replace(cursor, latest=order, kind_days=kind_days)
        return True

    def _rederived(self, event: EventRow, history: list[EventRow], fold: _Fold) -> _Cursor:
        # Everything with a lower id has been handled (the runner reads in id order and passes a gap only
        # once it is final), so the fan's counts so far are exactly contribution(earlier).
        earlier = [e for e in history if e.id < event.id]
        everything = [*earlier, event]
        before_kinds, before_periods = contribution(earlier, self.tz)
        after_kinds, after_periods = contribution(everything, self.tz)
        fold.kinds.update(after_kinds)
        fold.kinds.subtract(before_kinds)
        fold.periods.update(after_periods)
        fold.periods.subtract(before_periods)
        return _cursor_of(everything, self.tz)


def _cursor_of(fan_events: list[EventRow], tz: ZoneInfo) -> _Cursor:
    """The cursor after a fan's events (the state the in-order path would have reached)."""
    interactions = [e for e in fan_events if e.kind in ACTIVE_KINDS]
    kind_days: dict[str, str] = {}
    for e in interactions:
        day = e.wechat_time.astimezone(tz).date().isoformat()
        kind_days[e.kind] = max(kind_days.get(e.kind, ""), day)
    latest = max(map(order_key, interactions), default=None)
    follow = first_follow(fan_events)
    return _Cursor(
        latest, kind_days, acquisition_channel(follow), order_key(follow) if follow is not None else None
    )


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
            ).values_list(
                "openid",
                "last_at",
                "last_event_id",
                "kind_days",
                "channel",
                "first_follow_at",
                "first_follow_id",
            )
            for openid, last_at, last_id, kind_days, channel, follow_at, follow_id in rows:
                cursors[account_id, openid] = _Cursor(
                    _order(last_at, last_id), json.loads(kind_days), channel, _order(follow_at, follow_id)
                )
    return cursors


def _order(at: datetime | None, event_id: int | None) -> Order | None:
    # Both stored or neither (the consumer writes them together).
    return (at, event_id) if at is not None and event_id is not None else None


def _kind_changes(counts: KindCounts, plan: _Plan) -> None:
    deltas: dict[tuple[int, date, str, str], dict[str, int]] = {}
    for (account_id, day, kind, channel, column), n in counts.items():
        if n:
            deltas.setdefault((account_id, day, kind, channel), {"events": 0, "fans": 0})[column] += n
    existing: dict[tuple[int, date, str, str], ActivityKindDay] = {}
    for account_id, days in _grouped({(a, d) for a, d, _k, _c in deltas}).items():
        for start in range(0, len(days), CHUNK):
            for row in ActivityKindDay.objects.filter(
                account_id=account_id, day__in=days[start : start + CHUNK]
            ):
                existing[account_id, row.day, row.kind, row.channel] = row
    for (account_id, day, kind, channel), delta in sorted(deltas.items()):
        found = existing.get((account_id, day, kind, channel))
        row = (
            found
            if found is not None
            else ActivityKindDay(account_id=account_id, day=day, kind=kind, channel=channel, events=0, fans=0)
        )
        row.events += delta["events"]
        row.fans += delta["fans"]
        _place(row, row.events or row.fans, plan.kind_inserts, plan.kind_updates, plan.kind_deletes)


def _period_changes(counts: PeriodCounts, plan: _Plan) -> None:
    deltas: dict[tuple[int, str, date, str], dict[str, int]] = {}
    for (account_id, granularity, start, channel, column), n in counts.items():
        if n:
            key = (account_id, granularity, start, channel)
            deltas.setdefault(key, dict.fromkeys(LIFECYCLE_COLUMNS, 0))[column] += n
    existing: dict[tuple[int, str, date, str], ActivityPeriod] = {}
    for account_id, starts in _grouped({(a, s) for a, _g, s, _c in deltas}).items():
        for i in range(0, len(starts), CHUNK):
            for row in ActivityPeriod.objects.filter(account_id=account_id, start__in=starts[i : i + CHUNK]):
                existing[account_id, row.granularity, row.start, row.channel] = row
    for (account_id, granularity, start, channel), delta in sorted(deltas.items()):
        found = existing.get((account_id, granularity, start, channel))
        row = (
            found
            if found is not None
            else ActivityPeriod(account_id=account_id, granularity=granularity, start=start, channel=channel)
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
