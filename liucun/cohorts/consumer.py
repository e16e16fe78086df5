"""The stays consumer: every follow period, counted by cohort day, channel and whole days stayed.

What the table holds is a function of the *set* of a fan's lifecycle events (in WeChat time, then id):
  - a follow when no period is open starts one: its cohort day is the China day of the follow (the site's
    time zone), its channel the follow's QR scene ("" for none); a follow while a period is open changes
    nothing (as in the fan lifecycle: fans/lifecycle.py);
  - the next unfollow, or an unfollow a follower sync found (at the sync's time, the only one known),
    ends it after floor((unfollow - follow) / 24 h) whole days;
  - an unfollow with no open period (a fan whose follow Liucun never saw: the sync found them) adds
    nothing, and neither do those fans' periods: the reports say so.
So a rebuild from zero gives the rows any sequence of incremental runs gives. As in daily_follows.py, an
event later than everything the fan did before is placed from a per-fan cursor without a query; an older
one (backdated history, a late retry) re-reads the fan's lifecycle events and replaces the fan's share.
A rebuild from zero does not replay: bulk.py computes the same rows and cursors in a few statements
(Consumer.rebuild_bulk), and incremental runs carry on from there.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection

from liucun.cohorts import bulk
from liucun.cohorts.models import BIN_COLUMNS, CohortStays, StayFanCursor, bin_of
from liucun.events.kinds import FOLLOW, LIFECYCLE_KINDS
from liucun.rawsql import Sql
from liucun.readmodels.consumer import EventRow, StagedBulkConsumer, StagedCopy
from liucun.readmodels.daily_follows import follow_channel
from liucun.readmodels.fanhistory import fan_histories, fans_out_of_order

CHUNK = 500  # rows per IN (...) or executemany slice: far below SQLite's variable limit
DAY_SECONDS = 86400

_UPSERT_CURSOR = (
    "INSERT INTO cohorts_stayfancursor "
    "(account_id, openid, last_at, last_event_id, open_since, open_channel) "
    "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (account_id, openid) DO UPDATE SET "
    "last_at = excluded.last_at, last_event_id = excluded.last_event_id, "
    "open_since = excluded.open_since, open_channel = excluded.open_channel"
)
_COUNTS = ("fans", *BIN_COLUMNS)
# Counts are added, never read back first: a batch touches rows all over the year (every unfollow
# moves a period of its own cohort day), and reading those rows would cost more than the writes.
# Column names come from BIN_COLUMNS, values are parameters.
_ADD = (
    f"INSERT INTO cohorts_cohortstays (account_id, cohort_day, channel, {', '.join(_COUNTS)}) "  # noqa: S608
    f"VALUES (%s, %s, %s, {', '.join(['%s'] * len(_COUNTS))}) ON CONFLICT (account_id, cohort_day, channel) "
    f"DO UPDATE SET {', '.join(f'{c} = cohorts_cohortstays.{c} + excluded.{c}' for c in _COUNTS)}"
)
# A rebuild has no row for a cohort day and channel whose periods all moved elsewhere.
_DROP_EMPTY = (
    "DELETE FROM cohorts_cohortstays WHERE account_id = %s AND cohort_day = %s AND channel = %s AND fans = 0"
)

STILL_FOLLOWING = -1
# (account id, cohort day, channel, whole days stayed or STILL_FOLLOWING) -> periods
Cells = Counter[tuple[int, date, str, int]]


def _order(event: EventRow) -> tuple[datetime, int]:
    return event.wechat_time, event.id


def stay_days(followed: datetime, unfollowed: datetime) -> int:
    return int((unfollowed - followed).total_seconds() // DAY_SECONDS)


@dataclass
class _Cursor:
    last_at: datetime
    last_event_id: int
    open_since: datetime | None
    open_channel: str


def contribution(fan_events: Iterable[EventRow], tz: ZoneInfo) -> Cells:
    """What one fan's lifecycle events add to the table: the definition the consumer maintains."""
    cells: Cells = Counter()
    open_since: datetime | None = None
    channel = ""
    account_id = 0
    for event in sorted(fan_events, key=_order):
        account_id = event.account_id
        if event.kind == FOLLOW:
            if open_since is None:
                open_since, channel = event.wechat_time, follow_channel(event.fields.get("EventKey"))
        elif open_since is not None:
            day = open_since.astimezone(tz).date()
            cells[account_id, day, channel, stay_days(open_since, event.wechat_time)] += 1
            open_since = None
    if open_since is not None:
        cells[account_id, open_since.astimezone(tz).date(), channel, STILL_FOLLOWING] += 1
    return cells


class StaysConsumer(StagedBulkConsumer):
    name = "follow-stays"
    kinds = LIFECYCLE_KINDS
    payload_fields = ("EventKey",)
    version = 1

    def __init__(self, time_zone: str | None = None) -> None:
        self.tz = ZoneInfo(time_zone or settings.TIME_ZONE)

    def fingerprint(self) -> str:
        # Cohort days depend on the time zone: tables built in another zone must be rebuilt.
        return f"v{self.version}:{self.tz.key}"

    def reset(self) -> None:
        CohortStays.objects.all().delete()
        StayFanCursor.objects.all().delete()

    def stage_bulk(self, last_id: int) -> None:
        bulk.stage(last_id, self.tz)

    def copies(self) -> list[StagedCopy]:
        return bulk.copies()

    def drop_bulk(self) -> None:
        bulk.drop()

    def prepare(self, events: Sequence[EventRow]) -> _Plan:
        cursors = _load_cursors(events)
        latest = {key: (c.last_at, c.last_event_id) for key, c in cursors.items()}
        histories = fan_histories(fans_out_of_order(events, latest), LIFECYCLE_KINDS, self.payload_fields)
        cells: Cells = Counter()
        touched: set[tuple[int, str]] = set()
        for event in events:
            key = (event.account_id, event.openid)
            cursor = cursors.get(key)
            if cursor is None or _order(event) > (cursor.last_at, cursor.last_event_id):
                cursors[key] = self._in_order(event, cursor, cells)
            else:
                cursors[key] = self._backdated(event, histories[key], cells)
            touched.add(key)
        sql = Sql(connection)
        plan = _Plan()
        rows: dict[tuple[int, date, str], list[int]] = {}
        for (account_id, day, channel, stay), n in cells.items():
            if n:
                counts = rows.setdefault((account_id, day, channel), [0] * len(_COUNTS))
                counts[0] += n
                if stay != STILL_FOLLOWING:
                    counts[1 + bin_of(stay)] += n
        for (account_id, day, channel), counts in sorted(rows.items()):
            if any(counts):
                row: list[object] = [account_id, day if sql.postgres else day.isoformat(), channel]
                plan.adds.append([*row, *counts])
                if counts[0] < 0:
                    plan.drops.append(row)
        for account_id, openid in sorted(touched):
            c = cursors[account_id, openid]
            plan.cursors.append(
                [
                    account_id,
                    openid,
                    sql.dt(c.last_at),
                    c.last_event_id,
                    sql.dt(c.open_since),
                    c.open_channel,
                ]
            )
        return plan

    def apply(self, plan: _Plan) -> None:
        sql = Sql(connection)
        cursor = sql.cursor()
        try:
            for statement, rows in (
                (_UPSERT_CURSOR, plan.cursors),
                (_ADD, plan.adds),
                (_DROP_EMPTY, plan.drops),
            ):
                for start in range(0, len(rows), CHUNK):
                    sql.executemany(cursor, statement, rows[start : start + CHUNK])
        finally:
            cursor.close()

    def _in_order(self, event: EventRow, cursor: _Cursor | None, cells: Cells) -> _Cursor:
        open_since = cursor.open_since if cursor else None
        channel = cursor.open_channel if cursor else ""
        if event.kind == FOLLOW:
            if open_since is None:
                open_since, channel = event.wechat_time, follow_channel(event.fields.get("EventKey"))
                cells[event.account_id, open_since.astimezone(self.tz).date(), channel, STILL_FOLLOWING] += 1
        elif open_since is not None:
            day = open_since.astimezone(self.tz).date()
            cells[event.account_id, day, channel, STILL_FOLLOWING] -= 1
            cells[event.account_id, day, channel, stay_days(open_since, event.wechat_time)] += 1
            open_since, channel = None, ""
        return _Cursor(event.wechat_time, event.id, open_since, channel)

    def _backdated(self, event: EventRow, history: list[EventRow], cells: Cells) -> _Cursor:
        # Everything with a lower id has been handled (the runner reads in id order and passes a gap only
        # once it is final), so the fan's share so far is exactly contribution(earlier).
        earlier = [e for e in history if e.id < event.id]
        cells.subtract(contribution(earlier, self.tz))
        cells.update(contribution([*earlier, event], self.tz))
        open_since: datetime | None = None
        channel = ""
        ordered = sorted([*earlier, event], key=_order)
        for e in ordered:
            if e.kind == FOLLOW:
                if open_since is None:
                    open_since, channel = e.wechat_time, follow_channel(e.fields.get("EventKey"))
            else:
                open_since, channel = None, ""
        return _Cursor(ordered[-1].wechat_time, ordered[-1].id, open_since, channel)


@dataclass
class _Plan:
    cursors: list[list[object]] = field(default_factory=list)
    adds: list[list[object]] = field(default_factory=list)
    drops: list[list[object]] = field(default_factory=list)


def _load_cursors(events: Sequence[EventRow]) -> dict[tuple[int, str], _Cursor]:
    by_account: dict[int, set[str]] = {}
    for event in events:
        by_account.setdefault(event.account_id, set()).add(event.openid)
    cursors: dict[tuple[int, str], _Cursor] = {}
    for account_id, openids in by_account.items():
        ordered = sorted(openids)
        for start in range(0, len(ordered), CHUNK):
            rows = StayFanCursor.objects.filter(
                account_id=account_id, openid__in=ordered[start : start + CHUNK]
            ).values_list("openid", "last_at", "last_event_id", "open_since", "open_channel")
            for openid, last_at, last_event_id, open_since, open_channel in rows:
                cursors[account_id, openid] = _Cursor(last_at, last_event_id, open_since, open_channel)
    return cursors
