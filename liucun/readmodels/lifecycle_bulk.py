"""Follows and unfollows staged once for the set-based rebuilds that read them (ADR 21): daily follows,
following and follow-stays.

One plain scan of the event store (it has no index by kind: at 50,000,000 events the scan is most of a
rebuild's time) takes every follow, unfollow and reconciled unfollow with id <= last_id, with its China day
and, for a follow, its channel (its QR scene, "" for none), and numbers each fan's events by (WeChat time,
id), the order every lifecycle consumer walks them in. Into EVENTS, per event:
  - nth: its place in the fan's history (1: the first), and is_last (1 for the fan's latest event);
  - after_follow: 1 when the fan's previous event is a follow (0 for the first);
  - follow_no: the fan's follows up to and including it (a follow starts a run that ends at the next one);
  - grp: the fan's unfollows before it. A follow period starts at a follow when the fan is not following
    (after_follow = 0) and ends at the next unfollow: the period's follows and the unfollow that ends it
    share one grp, and nothing else does.
PERIODS, made from EVENTS when a rebuild asks for it, holds every follow period (one row per fan and grp
with a follow in it): opened_at, open_day and channel of the follow that opened it, and closed_at and
close_day of the unfollow that ended it (NULL while still following). An unfollow with no period (the
fan's first event, or one after an unfollow) is in EVENTS only.

The tables are TEMP tables of this connection. A rebuild stages them in its prepare_bulk and lets go in
its finish_bulk (release); inside `shared()` they outlive each rebuild, so that several rebuilt in a row
up to the same event (`liucun readmodels rebuild`) scan the store once.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection

from liucun.events.kinds import FOLLOW, UNFOLLOW, UNFOLLOW_RECONCILED
from liucun.readmodels.bulksql import analyze_temp, local_day, payload_text, postgres, temp_table
from liucun.wechat.messages import QR_SCENE_PREFIX

EVENTS = "liucun_bulk_lifecycle"
PERIODS = "liucun_bulk_lifecycle_periods"
# One row: the last_id and the time zone the two tables were staged for.
_STAGED_FOR = "liucun_bulk_lifecycle_for"
_TABLES = (EVENTS, PERIODS, _STAGED_FOR)

_shared: ContextVar[bool] = ContextVar("liucun_lifecycle_bulk_shared", default=False)


def stage(last_id: int, tz: ZoneInfo, *, periods: bool = False) -> None:
    """Make EVENTS (and PERIODS, when asked for) hold the lifecycle events with id <= last_id, days in
    `tz` (reads the event store only). Tables staged for the same last_id and zone are kept as they are."""
    if staged_for() != (last_id, tz.key):
        drop()
        with connection.cursor() as cursor:
            _stage_events(cursor, last_id, tz)
            cursor.execute(f"CREATE TEMPORARY TABLE {_STAGED_FOR} (last_id bigint, zone text)")
            cursor.execute(f"INSERT INTO {_STAGED_FOR} (last_id, zone) VALUES (%s, %s)", [last_id, tz.key])  # noqa: S608
    if periods and not _exists(PERIODS):
        with connection.cursor() as cursor:
            # Statistics for the joins of EVENTS with PERIODS, and only then: a rebuild that reads EVENTS
            # in one pass (daily follows) needs none.
            analyze_temp(cursor, EVENTS)
            _stage_periods(cursor)


def release() -> None:
    """A rebuild is done with the tables: gone, unless rebuilds share them (shared())."""
    if not _shared.get():
        drop()


@contextmanager
def shared() -> Iterator[None]:
    """Keep the staged tables from one rebuild to the next until the block ends, then drop them."""
    token = _shared.set(True)
    try:
        yield
    finally:
        _shared.reset(token)
        if not _shared.get():
            drop()


def staged_for() -> tuple[int, str] | None:
    """(last_id, zone) of the tables this connection holds, None when it holds none."""
    if not _exists(_STAGED_FOR):
        return None
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT last_id, zone FROM {_STAGED_FOR}")  # noqa: S608
        row = cursor.fetchone()
    return (int(row[0]), str(row[1])) if row else None


def drop() -> None:
    # Qualified, so that only a TEMP table of that name can ever be dropped.
    schema = "pg_temp" if postgres() else "temp"
    with connection.cursor() as cursor:
        for table in _TABLES:
            cursor.execute(f"DROP TABLE IF EXISTS {schema}.{table}")


def _stage_events(cursor: Any, last_id: int, tz: ZoneInfo) -> None:
    temp_table(
        cursor,
        EVENTS,
        "account_id bigint, openid {text}, grp bigint, nth bigint, id bigint, kind {text},"
        " wechat_time {time}, day {date}, follow_channel {text}, after_follow integer, is_last integer,"
        " follow_no bigint",
        "account_id, openid, grp, nth",
    )
    day, day_params = local_day("e.wechat_time", tz)
    key = payload_text("e.payload", "EventKey")
    prefix = len(QR_SCENE_PREFIX)
    # A plain scan (NOT INDEXED: asked for the window's order, SQLite would walk the fan-timeline index
    # instead, one random read of the table per event), then one sort for the window. grp and nth grow
    # together, so the rows come out in the table's key order.
    scan = "events_event e" if postgres() else "events_event e NOT INDEXED"
    cursor.execute(
        f"INSERT INTO {EVENTS} (account_id, openid, grp, nth, id, kind, wechat_time, day, follow_channel,"  # noqa: S608 (names and expressions are ours)
        " after_follow, is_last, follow_no)"
        " SELECT account_id, openid,"
        "  COUNT(CASE WHEN kind <> %s THEN 1 END) OVER fan - CASE WHEN kind <> %s THEN 1 ELSE 0 END,"
        "  ROW_NUMBER() OVER fan, id, kind, wechat_time, day, follow_channel,"
        "  CASE WHEN LAG(kind) OVER fan = %s THEN 1 ELSE 0 END,"
        "  CASE WHEN LEAD(id) OVER fan IS NULL THEN 1 ELSE 0 END,"
        "  COUNT(follow_channel) OVER fan"
        " FROM ("
        f"  SELECT e.id, e.account_id, e.openid, e.kind, e.wechat_time, {day} AS day,"
        "   CASE WHEN e.kind = %s THEN"
        f"    CASE WHEN substr(COALESCE({key}, ''), 1, {prefix}) = %s THEN substr({key}, {prefix + 1})"
        "    ELSE '' END"
        "   END AS follow_channel"
        f"  FROM {scan} WHERE e.id <= %s AND e.kind IN (%s, %s, %s)"
        # One frame for every function (ranking ones ignore it), so that SQLite makes one pass.
        " ) t WINDOW fan AS ("
        "  PARTITION BY account_id, openid ORDER BY wechat_time, id ROWS UNBOUNDED PRECEDING)"
        # On SQLite, the order the keyed table appends in; PostgreSQL's heap has none.
        + ("" if postgres() else " ORDER BY account_id, openid, wechat_time, id"),
        [
            FOLLOW,
            FOLLOW,
            FOLLOW,
            *day_params,
            FOLLOW,
            QR_SCENE_PREFIX,
            last_id,
            FOLLOW,
            UNFOLLOW,
            UNFOLLOW_RECONCILED,
        ],
    )


def _stage_periods(cursor: Any) -> None:
    temp_table(
        cursor,
        PERIODS,
        "account_id bigint, openid {text}, grp bigint, opened_at {time}, open_day {date}, channel {text},"
        " closed_at {time}, close_day {date}",
        "account_id, openid, grp",
    )
    # In a grp with a follow, the follow after no follow opened the period (there is one) and the grp's
    # one unfollow, if any, ended it.
    opener, closer = "kind = %s AND after_follow = 0", "kind <> %s"
    cursor.execute(
        f"INSERT INTO {PERIODS} (account_id, openid, grp, opened_at, open_day, channel, closed_at, close_day)"  # noqa: S608
        " SELECT account_id, openid, grp,"
        f"  MAX(CASE WHEN {opener} THEN wechat_time END), MAX(CASE WHEN {opener} THEN day END),"
        f"  MAX(CASE WHEN {opener} THEN follow_channel END),"
        f"  MAX(CASE WHEN {closer} THEN wechat_time END), MAX(CASE WHEN {closer} THEN day END)"
        f" FROM {EVENTS} GROUP BY account_id, openid, grp HAVING COUNT(follow_channel) > 0",
        [FOLLOW] * 5,
    )
    analyze_temp(cursor, PERIODS)


def _exists(table: str) -> bool:
    with connection.cursor() as cursor:
        if postgres():
            cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [f"pg_temp.{table}"])
        else:
            cursor.execute(
                "SELECT COUNT(*) > 0 FROM sqlite_temp_master WHERE type = 'table' AND name = %s", [table]
            )
        return bool(cursor.fetchone()[0])
