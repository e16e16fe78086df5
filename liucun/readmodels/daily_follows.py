"""The daily-follows consumer: follows, refollows and unfollows per account, day and channel.

What a row counts is a function of the *set* of lifecycle events, never of the order they arrived in:
  - an event's day is the day of its WeChat time in the site's time zone (LIUCUN_TIME_ZONE, Asia/Shanghai
    by default), so an event delivered late or imported afterwards lands on the day it happened;
  - a fan's events are put in order by WeChat time (then id); a follow is a *follow* when it is the first
    follow or unfollow of the fan, else a *refollow*; its channel is its QR scene ("" for none);
  - an unfollow counts under the channel of the fan's latest follow before it ("" when none is known,
    e.g. a fan the follower sync found), in `unfollows`, or `reconciled_unfollows` when a sync found it
    (its day is the sync's, the only time known).
Because of that, a rebuild from zero gives the same rows as any sequence of incremental runs.

Most events are later than everything the fan did before: they are classified from a small per-fan
cursor (FollowFanCursor) without a query. An event older than the fan's latest one (a backdated import,
a late retry) may change how the fan's later events count; for those the fan's lifecycle events are read
back (event_fan_timeline index) and the fan's counts are replaced by the difference with and without it.

A rebuild from zero does not replay: daily_follows_bulk.py computes the same rows and cursors with window
functions in a few statements (Consumer.rebuild_bulk), and incremental runs carry on from there.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection

from liucun.events.kinds import FOLLOW, LIFECYCLE_KINDS, UNFOLLOW
from liucun.rawsql import Sql
from liucun.readmodels import daily_follows_bulk
from liucun.readmodels.consumer import EventRow, StagedBulkConsumer, StagedCopy
from liucun.readmodels.fanhistory import fan_histories, fans_out_of_order
from liucun.readmodels.models import DailyFollows, FollowFanCursor
from liucun.wechat.messages import QR_SCENE_PREFIX

COLUMNS = ("follows", "refollows", "unfollows", "reconciled_unfollows")
CHUNK = 500  # rows per IN (...) or multi-row INSERT: far below SQLite's variable limit

# Plain statements (rawsql.Sql): Django's bulk_create spent more time building SQL than the database ran it.
_UPSERT_CURSOR = (
    "INSERT INTO readmodels_followfancursor (account_id, openid, last_at, last_event_id, channel) "
    "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (account_id, openid) DO UPDATE SET "
    "last_at = excluded.last_at, last_event_id = excluded.last_event_id, channel = excluded.channel"
)
_INSERT_DAY = (
    "INSERT INTO readmodels_dailyfollows (account_id, day, channel, follows, refollows, unfollows, "
    "reconciled_unfollows) VALUES (%s, %s, %s, %s, %s, %s, %s)"
)
_UPDATE_DAY = (
    "UPDATE readmodels_dailyfollows SET follows = %s, refollows = %s, unfollows = %s, "
    "reconciled_unfollows = %s WHERE id = %s"
)

# (account id, day, channel, column) -> count
Counts = Counter[tuple[int, date, str, str]]


def follow_channel(event_key: str | None) -> str:
    """The QR scene a follow came through, as the fan lifecycle records it ("" for other scenes)."""
    if event_key and event_key.startswith(QR_SCENE_PREFIX):
        return event_key[len(QR_SCENE_PREFIX) :]
    return ""


def _order(event: EventRow) -> tuple[datetime, int]:
    return event.wechat_time, event.id


def contribution(fan_events: Iterable[EventRow], tz: ZoneInfo) -> Counts:
    """What one fan's lifecycle events add to the table: the definition the consumer maintains."""
    counts: Counts = Counter()
    seen, channel = False, ""
    for event in sorted(fan_events, key=_order):
        day = event.wechat_time.astimezone(tz).date()
        if event.kind == FOLLOW:
            channel = follow_channel(event.fields.get("EventKey"))
            counts[event.account_id, day, channel, "refollows" if seen else "follows"] += 1
        else:
            column = "unfollows" if event.kind == UNFOLLOW else "reconciled_unfollows"
            counts[event.account_id, day, channel, column] += 1
        seen = True
    return counts


@dataclass
class _Cursor:
    last_at: datetime
    last_event_id: int
    channel: str


class DailyFollowsConsumer(StagedBulkConsumer):
    name = "daily-follows"
    kinds = LIFECYCLE_KINDS
    payload_fields = ("EventKey",)
    version = 1

    def __init__(self, time_zone: str | None = None) -> None:
        self.tz = ZoneInfo(time_zone or settings.TIME_ZONE)

    def fingerprint(self) -> str:
        # Days depend on the time zone: tables built in another zone must be rebuilt, not extended.
        return f"v{self.version}:{self.tz.key}"

    def reset(self) -> None:
        DailyFollows.objects.all().delete()
        FollowFanCursor.objects.all().delete()

    def stage_bulk(self, last_id: int) -> None:
        daily_follows_bulk.stage(last_id, self.tz)

    def copies(self) -> list[StagedCopy]:
        return daily_follows_bulk.copies()

    def drop_bulk(self) -> None:
        daily_follows_bulk.drop()

    def prepare(self, events: Sequence[EventRow]) -> _Plan:
        cursors = self._load_cursors(events)
        latest = {key: (c.last_at, c.last_event_id) for key, c in cursors.items()}
        histories = fan_histories(fans_out_of_order(events, latest), LIFECYCLE_KINDS, self.payload_fields)
        counts: Counts = Counter()
        touched: set[tuple[int, str]] = set()
        for event in events:
            key = (event.account_id, event.openid)
            cursor = cursors.get(key)
            if cursor is None or _order(event) > (cursor.last_at, cursor.last_event_id):
                cursors[key] = self._in_order(event, cursor, counts)
            else:
                cursors[key] = self._backdated(event, histories[key], counts)
            touched.add(key)
        sql = Sql(connection)
        plan = _day_changes(counts, sql)
        plan.cursors = [
            [account_id, openid, sql.dt(c.last_at), c.last_event_id, c.channel]
            for (account_id, openid), c in ((key, cursors[key]) for key in touched)
        ]
        return plan

    def apply(self, plan: _Plan) -> None:
        sql = Sql(connection)
        cursor = sql.cursor()
        try:
            for statement, rows in (
                (_UPSERT_CURSOR, plan.cursors),
                (_INSERT_DAY, plan.inserts),
                (_UPDATE_DAY, plan.updates),
            ):
                for start in range(0, len(rows), CHUNK):
                    sql.executemany(cursor, statement, rows[start : start + CHUNK])
        finally:
            cursor.close()
        for start in range(0, len(plan.deletes), CHUNK):
            DailyFollows.objects.filter(pk__in=plan.deletes[start : start + CHUNK]).delete()

    def _in_order(self, event: EventRow, cursor: _Cursor | None, counts: Counts) -> _Cursor:
        day = event.wechat_time.astimezone(self.tz).date()
        channel = cursor.channel if cursor is not None else ""
        if event.kind == FOLLOW:
            channel = follow_channel(event.fields.get("EventKey"))
            counts[event.account_id, day, channel, "follows" if cursor is None else "refollows"] += 1
        else:
            column = "unfollows" if event.kind == UNFOLLOW else "reconciled_unfollows"
            counts[event.account_id, day, channel, column] += 1
        return _Cursor(event.wechat_time, event.id, channel)

    def _backdated(self, event: EventRow, history: list[EventRow], counts: Counts) -> _Cursor:
        # Everything with a lower id has been handled (the runner reads in id order and passes a gap only
        # once it is final), so the fan's counts so far are exactly contribution(earlier).
        earlier = [e for e in history if e.id < event.id]
        counts.subtract(contribution(earlier, self.tz))
        counts.update(contribution([*earlier, event], self.tz))
        ordered = sorted([*earlier, event], key=_order)
        follows = [e for e in ordered if e.kind == FOLLOW]
        channel = follow_channel(follows[-1].fields.get("EventKey")) if follows else ""
        return _Cursor(ordered[-1].wechat_time, ordered[-1].id, channel)

    @staticmethod
    def _load_cursors(events: Sequence[EventRow]) -> dict[tuple[int, str], _Cursor]:
        by_account: dict[int, set[str]] = {}
        for event in events:
            by_account.setdefault(event.account_id, set()).add(event.openid)
        cursors: dict[tuple[int, str], _Cursor] = {}
        for account_id, openids in by_account.items():
            ordered = sorted(openids)
            for start in range(0, len(ordered), CHUNK):
                rows = FollowFanCursor.objects.filter(
                    account_id=account_id, openid__in=ordered[start : start + CHUNK]
                ).values_list("openid", "last_at", "last_event_id", "channel")
                for openid, last_at, last_event_id, channel in rows:
                    cursors[account_id, openid] = _Cursor(last_at, last_event_id, channel)
        return cursors


@dataclass
class _Plan:
    cursors: list[list[object]] = field(default_factory=list)
    inserts: list[list[object]] = field(default_factory=list)
    updates: list[list[object]] = field(default_factory=list)
    deletes: list[int] = field(default_factory=list)


def _day_changes(counts: Counts, sql: Sql) -> _Plan:
    """The inserts, updates and deletes of day rows that add `counts` to the table."""
    deltas: dict[tuple[int, date, str], dict[str, int]] = {}
    for (account_id, day, channel, column), n in counts.items():
        if n:
            deltas.setdefault((account_id, day, channel), dict.fromkeys(COLUMNS, 0))[column] += n
    plan = _Plan()
    existing = _existing_rows(deltas)
    for (account_id, day, channel), delta in deltas.items():
        old = existing.get((account_id, day, channel))
        values = [(old[c] if old else 0) + delta[c] for c in COLUMNS]
        if old is None:
            if any(values):
                plan.inserts.append([account_id, day if sql.postgres else day.isoformat(), channel, *values])
        elif any(values):
            plan.updates.append([*values, old["id"]])
        else:
            # A backdated event moved the row's only counts elsewhere: a rebuild would have no row.
            plan.deletes.append(old["id"])
    return plan


def _existing_rows(keys: Iterable[tuple[int, date, str]]) -> dict[tuple[int, date, str], dict[str, int]]:
    days_by_account: dict[int, set[date]] = {}
    for account_id, day, _channel in keys:
        days_by_account.setdefault(account_id, set()).add(day)
    existing: dict[tuple[int, date, str], dict[str, int]] = {}
    for account_id, days in days_by_account.items():
        ordered = sorted(days)
        for start in range(0, len(ordered), CHUNK):
            rows = DailyFollows.objects.filter(account_id=account_id, day__in=ordered[start : start + CHUNK])
            for row in rows.values("id", "day", "channel", *COLUMNS):
                existing[account_id, row["day"], row["channel"]] = row
    return existing
