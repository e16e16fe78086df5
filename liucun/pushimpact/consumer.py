"""The hourly-flows consumer: follows and unfollows per account, UTC hour and channel (HourlyFlows).

The same definitions as daily follows (readmodels/daily_follows.py), by the hour: an event counts in
the hour of its WeChat time; a fan's events are put in order by WeChat time (then id); an unfollow
counts under the channel of the fan's latest follow before it ("" when none is known). What a row holds
depends only on the set of events, so a rebuild from zero gives the rows any incremental runs gave.

A rebuild from zero is set-based (bulk.py: window functions over the event store) and must give the
rows the replay gives; the property test checks both against a brute-force count.

In-order events are classified from a per-fan cursor (FlowFanCursor) without a query; an event older
than the fan's latest (a backdated import, a late retry) has the fan's lifecycle events read back and
the fan's counts replaced by the difference with and without it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.db import connection

from liucun.events.kinds import FOLLOW, LIFECYCLE_KINDS, UNFOLLOW
from liucun.pushimpact import bulk
from liucun.pushimpact.models import FlowFanCursor, HourlyFlows, HourlyTotals
from liucun.rawsql import Sql
from liucun.readmodels.consumer import EventRow, StagedBulkConsumer, StagedCopy
from liucun.readmodels.daily_follows import follow_channel
from liucun.readmodels.fanhistory import fan_histories, fans_out_of_order

COLUMNS = ("follows", "unfollows", "reconciled")
CHUNK = 500

_UPSERT_CURSOR = (
    "INSERT INTO pushimpact_flowfancursor (account_id, openid, last_at, last_event_id, channel) "
    "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (account_id, openid) DO UPDATE SET "
    "last_at = excluded.last_at, last_event_id = excluded.last_event_id, channel = excluded.channel"
)
_INSERT_HOUR = (
    "INSERT INTO pushimpact_hourlyflows (account_id, hour, channel, follows, unfollows, reconciled) "
    "VALUES (%s, %s, %s, %s, %s, %s)"
)
_UPDATE_HOUR = "UPDATE pushimpact_hourlyflows SET follows = %s, unfollows = %s, reconciled = %s WHERE id = %s"
_INSERT_TOTAL = (
    "INSERT INTO pushimpact_hourlytotals (account_id, hour, follows, unfollows, reconciled) "
    "VALUES (%s, %s, %s, %s, %s)"
)
_UPDATE_TOTAL = (
    "UPDATE pushimpact_hourlytotals SET follows = %s, unfollows = %s, reconciled = %s WHERE id = %s"
)

# (account id, hour, channel, column) -> count
Counts = Counter[tuple[int, int, str, str]]


def hour_of(moment: datetime) -> int:
    """The hour number of a moment: whole hours since 1970-01-01 00:00 UTC."""
    return int(moment.timestamp()) // 3600


def hour_start(hour: int) -> datetime:
    return datetime.fromtimestamp(hour * 3600, UTC)


def _order(event: EventRow) -> tuple[datetime, int]:
    return event.wechat_time, event.id


def _column(kind: str) -> str:
    if kind == FOLLOW:
        return "follows"
    return "unfollows" if kind == UNFOLLOW else "reconciled"


def contribution(fan_events: Iterable[EventRow]) -> Counts:
    """What one fan's lifecycle events add to the table: the definition the consumer maintains."""
    counts: Counts = Counter()
    channel = ""
    for event in sorted(fan_events, key=_order):
        if event.kind == FOLLOW:
            channel = follow_channel(event.fields.get("EventKey"))
        counts[event.account_id, hour_of(event.wechat_time), channel, _column(event.kind)] += 1
    return counts


@dataclass
class _Cursor:
    last_at: datetime
    last_event_id: int
    channel: str


@dataclass
class _Changes:
    inserts: list[list[object]] = field(default_factory=list)
    updates: list[list[object]] = field(default_factory=list)
    deletes: list[int] = field(default_factory=list)


@dataclass
class _Plan:
    cursors: list[list[object]] = field(default_factory=list)
    flows: _Changes = field(default_factory=_Changes)
    totals: _Changes = field(default_factory=_Changes)


class HourlyFlowsConsumer(StagedBulkConsumer):
    name = "push-hourly-flows"
    kinds = LIFECYCLE_KINDS
    payload_fields = ("EventKey",)
    version = 1

    def stage_bulk(self, last_id: int) -> None:
        bulk.stage(last_id)

    def copies(self) -> list[StagedCopy]:
        return bulk.copies()

    def drop_bulk(self) -> None:
        bulk.drop()

    def reset(self) -> None:
        HourlyFlows.objects.all().delete()
        HourlyTotals.objects.all().delete()
        FlowFanCursor.objects.all().delete()

    def prepare(self, events: Sequence[EventRow]) -> _Plan:
        cursors = _load_cursors(events)
        latest = {key: (c.last_at, c.last_event_id) for key, c in cursors.items()}
        histories = fan_histories(fans_out_of_order(events, latest), LIFECYCLE_KINDS, self.payload_fields)
        counts: Counts = Counter()
        touched: set[tuple[int, str]] = set()
        for event in events:
            key = (event.account_id, event.openid)
            cursor = cursors.get(key)
            if cursor is None or _order(event) > (cursor.last_at, cursor.last_event_id):
                channel = cursor.channel if cursor is not None else ""
                if event.kind == FOLLOW:
                    channel = follow_channel(event.fields.get("EventKey"))
                counts[event.account_id, hour_of(event.wechat_time), channel, _column(event.kind)] += 1
                cursors[key] = _Cursor(event.wechat_time, event.id, channel)
            else:
                cursors[key] = self._backdated(event, histories[key], counts)
            touched.add(key)
        sql = Sql(connection)
        totals: Counts = Counter()
        for (account_id, hour, _channel, column), n in counts.items():
            totals[account_id, hour, "", column] += n
        plan = _Plan(flows=_hour_changes(counts, HourlyFlows), totals=_hour_changes(totals, HourlyTotals))
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
                (_INSERT_HOUR, plan.flows.inserts),
                (_UPDATE_HOUR, plan.flows.updates),
                (_INSERT_TOTAL, plan.totals.inserts),
                (_UPDATE_TOTAL, plan.totals.updates),
            ):
                for start in range(0, len(rows), CHUNK):
                    sql.executemany(cursor, statement, rows[start : start + CHUNK])
        finally:
            cursor.close()
        for model, deletes in ((HourlyFlows, plan.flows.deletes), (HourlyTotals, plan.totals.deletes)):
            for start in range(0, len(deletes), CHUNK):
                model.objects.filter(pk__in=deletes[start : start + CHUNK]).delete()

    @staticmethod
    def _backdated(event: EventRow, history: list[EventRow], counts: Counts) -> _Cursor:
        # Every event with a lower id has been handled (the runner reads in id order), so the fan's
        # counts so far are exactly contribution(earlier).
        earlier = [e for e in history if e.id < event.id]
        counts.subtract(contribution(earlier))
        counts.update(contribution([*earlier, event]))
        ordered = sorted([*earlier, event], key=_order)
        follows = [e for e in ordered if e.kind == FOLLOW]
        channel = follow_channel(follows[-1].fields.get("EventKey")) if follows else ""
        return _Cursor(ordered[-1].wechat_time, ordered[-1].id, channel)


def _load_cursors(events: Sequence[EventRow]) -> dict[tuple[int, str], _Cursor]:
    by_account: dict[int, set[str]] = {}
    for event in events:
        by_account.setdefault(event.account_id, set()).add(event.openid)
    cursors: dict[tuple[int, str], _Cursor] = {}
    for account_id, openids in by_account.items():
        ordered = sorted(openids)
        for start in range(0, len(ordered), CHUNK):
            rows = FlowFanCursor.objects.filter(
                account_id=account_id, openid__in=ordered[start : start + CHUNK]
            ).values_list("openid", "last_at", "last_event_id", "channel")
            for openid, last_at, last_event_id, channel in rows:
                cursors[account_id, openid] = _Cursor(last_at, last_event_id, channel)
    return cursors


def _hour_changes(counts: Counts, model: type[HourlyFlows] | type[HourlyTotals]) -> _Changes:
    """The inserts, updates and deletes of `model`'s rows that add `counts` to it (channel "" for totals)."""
    per_channel = model is HourlyFlows
    deltas: dict[tuple[int, int, str], dict[str, int]] = {}
    for (account_id, hour, channel, column), n in counts.items():
        if n:
            deltas.setdefault((account_id, hour, channel), dict.fromkeys(COLUMNS, 0))[column] += n
    changes = _Changes()
    existing = _existing_rows(deltas, model)
    for (account_id, hour, channel), delta in deltas.items():
        old = existing.get((account_id, hour, channel))
        values = [(old[c] if old else 0) + delta[c] for c in COLUMNS]
        if old is None:
            if any(values):
                key = [account_id, hour, channel] if per_channel else [account_id, hour]
                changes.inserts.append([*key, *values])
        elif any(values):
            changes.updates.append([*values, old["id"]])
        else:
            # A backdated event moved the row's only counts elsewhere: a rebuild would have no row.
            changes.deletes.append(old["id"])
    return changes


def _existing_rows(
    keys: Iterable[tuple[int, int, str]], model: type[HourlyFlows] | type[HourlyTotals]
) -> dict[tuple[int, int, str], dict[str, Any]]:
    hours_by_account: dict[int, set[int]] = {}
    for account_id, hour, _channel in keys:
        hours_by_account.setdefault(account_id, set()).add(hour)
    fields = ["id", "hour", *COLUMNS, *(["channel"] if model is HourlyFlows else [])]
    existing: dict[tuple[int, int, str], dict[str, Any]] = {}
    for account_id, hours in hours_by_account.items():
        ordered = sorted(hours)
        for start in range(0, len(ordered), CHUNK):
            rows = model.objects.filter(account_id=account_id, hour__in=ordered[start : start + CHUNK])
            for row in rows.values(*fields):
                existing[account_id, row["hour"], row.get("channel", "")] = row
    return existing
