"""The daily-follows tables rebuilt set-based: the definition of daily_follows.contribution in SQL.

The lifecycle events with id <= last_id come staged by lifecycle_bulk.py (one scan of the event store,
shared with the other lifecycle rebuilds), numbered per fan by (WeChat time, id):
  - the first lifecycle event of a fan is number 1: a follow there is a *follow*, any later one a *refollow*;
  - the running count of the fan's follows (follow_no) cuts its history into groups that each start at a
    follow, so an unfollow's channel is the channel of its group's follow ("" in the group before the
    first follow);
  - the fan's last event gives its cursor: time, id and latest channel.
From the staged rows two TEMP tables hold the day rows and the cursors, ready to copy: the copy is all
that runs inside the write transaction (on SQLite, with the lock callbacks wait for).
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from django.db import connection

from liucun.events.kinds import FOLLOW, UNFOLLOW, UNFOLLOW_RECONCILED
from liucun.readmodels import lifecycle_bulk
from liucun.readmodels.consumer import StagedCopy
from liucun.readmodels.lifecycle_bulk import EVENTS

_STAGED = "liucun_bulk_follow_events"
_DAYS = "liucun_bulk_follow_days"
_CURSORS = "liucun_bulk_follow_cursors"


def stage(last_id: int, tz: ZoneInfo) -> None:
    """Fill the TEMP tables from the events with id <= last_id (reads the event store only)."""
    _drop_own()
    lifecycle_bulk.stage(last_id, tz)
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMPORARY TABLE {_STAGED} AS"  # noqa: S608 (names are ours)
            " SELECT account_id, openid, id, kind, wechat_time, day, nth, is_last,"
            "  COALESCE(MAX(follow_channel) OVER (PARTITION BY account_id, openid, follow_no), '') AS channel"
            f" FROM {EVENTS}"
        )
        cursor.execute(
            f"CREATE TEMPORARY TABLE {_DAYS} AS SELECT account_id, day, channel,"  # noqa: S608
            " SUM(CASE WHEN kind = %s AND nth = 1 THEN 1 ELSE 0 END) AS follows,"
            " SUM(CASE WHEN kind = %s AND nth > 1 THEN 1 ELSE 0 END) AS refollows,"
            " SUM(CASE WHEN kind = %s THEN 1 ELSE 0 END) AS unfollows,"
            " SUM(CASE WHEN kind = %s THEN 1 ELSE 0 END) AS reconciled_unfollows"
            f" FROM {_STAGED} GROUP BY account_id, day, channel",
            [FOLLOW, FOLLOW, UNFOLLOW, UNFOLLOW_RECONCILED],
        )
        cursor.execute(
            f"CREATE TEMPORARY TABLE {_CURSORS} AS"  # noqa: S608
            " SELECT account_id, openid, wechat_time AS last_at, id AS last_event_id, channel"
            f" FROM {_STAGED} WHERE is_last = 1 ORDER BY account_id, openid"
        )
    _drop_own(_STAGED)


def copies() -> list[StagedCopy]:
    """What moves the staged rows into the (empty) tables."""
    days = "account_id, day, channel, follows, refollows, unfollows, reconciled_unfollows"
    cursors = "account_id, openid, last_at, last_event_id, channel"
    return [
        StagedCopy.of("readmodels_dailyfollows", days, _DAYS),
        StagedCopy.of("readmodels_followfancursor", cursors, _CURSORS, order="account_id, openid"),
    ]


def drop() -> None:
    """Drop what stage() made, and let go of the lifecycle staging."""
    _drop_own()
    lifecycle_bulk.release()


def _drop_own(*tables: str) -> None:
    # Qualified, so that only a TEMP table of that name can ever be dropped.
    schema = "pg_temp" if connection.vendor == "postgresql" else "temp"
    with connection.cursor() as cursor:
        for table in tables or (_STAGED, _DAYS, _CURSORS):
            cursor.execute(f"DROP TABLE IF EXISTS {schema}.{table}")
