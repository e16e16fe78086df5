"""The daily-follows tables rebuilt set-based: the definition of daily_follows.contribution in SQL.

One pass over the event store (it has no index by kind: at 50,000,000 events this scan is most of the
time) stages every follow and unfollow with id <= last_id, numbered per fan by (WeChat time, id):
  - the first lifecycle event of a fan is number 1: a follow there is a *follow*, any later one a *refollow*;
  - a running count of the fan's follows cuts its history into groups that each start at a follow, so an
    unfollow's channel is the channel of its group's follow ("" in the group before the first follow);
  - the last event of the fan (numbered from the end) gives its cursor: time, id and latest channel.
From the staged rows two TEMP tables hold the day rows and the cursors, ready to copy: the copy is all
that runs inside the write transaction (on SQLite, with the lock callbacks wait for).
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from django.db import connection

from liucun.events.kinds import FOLLOW, UNFOLLOW, UNFOLLOW_RECONCILED
from liucun.readmodels.bulksql import local_day, payload_text
from liucun.wechat.messages import QR_SCENE_PREFIX

_LIFE = "liucun_bulk_follow_life"
_STAGED = "liucun_bulk_follow_events"
_DAYS = "liucun_bulk_follow_days"
_CURSORS = "liucun_bulk_follow_cursors"


def stage(last_id: int, tz: ZoneInfo) -> None:
    """Fill the TEMP tables from the events with id <= last_id (reads the event store only)."""
    drop()
    day, day_params = local_day("e.wechat_time", tz)
    key = payload_text("e.payload", "EventKey")
    prefix = len(QR_SCENE_PREFIX)
    with connection.cursor() as cursor:
        # First the lifecycle rows alone, by a plain scan: given the window functions at once, SQLite
        # walks every event in the fan-timeline index's order to save a sort, a random read per event.
        cursor.execute(
            f"CREATE TEMPORARY TABLE {_LIFE} AS"  # noqa: S608 (names and expressions are ours)
            f" SELECT e.id, e.account_id, e.openid, e.kind, e.wechat_time, {day} AS day,"
            "  CASE WHEN e.kind = %s THEN"
            f"   CASE WHEN substr(COALESCE({key}, ''), 1, {prefix}) = %s THEN substr({key}, {prefix + 1})"
            "   ELSE '' END"
            "  END AS follow_channel"
            " FROM events_event e WHERE e.id <= %s AND e.kind IN (%s, %s, %s)",
            [*day_params, FOLLOW, QR_SCENE_PREFIX, last_id, FOLLOW, UNFOLLOW, UNFOLLOW_RECONCILED],
        )
        cursor.execute(
            f"CREATE TEMPORARY TABLE {_STAGED} AS "  # noqa: S608
            "WITH numbered AS ("
            f" SELECT {_LIFE}.*,"
            "  ROW_NUMBER() OVER fan AS nth,"
            "  COUNT(follow_channel) OVER (fan ROWS UNBOUNDED PRECEDING) AS follow_no,"
            "  ROW_NUMBER() OVER (PARTITION BY account_id, openid ORDER BY wechat_time DESC, id DESC)"
            "   AS from_last"
            f" FROM {_LIFE} WINDOW fan AS (PARTITION BY account_id, openid ORDER BY wechat_time, id)"
            ") SELECT id, account_id, openid, kind, wechat_time, day, nth, from_last,"
            " COALESCE(MAX(follow_channel) OVER (PARTITION BY account_id, openid, follow_no), '') AS channel"
            " FROM numbered"
        )
        drop(_LIFE)
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
            f" FROM {_STAGED} WHERE from_last = 1 ORDER BY account_id, openid"
        )
    drop(_STAGED)


def copy() -> None:
    """Copy the staged rows into the (empty) tables: the part that runs in the write transaction."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO readmodels_dailyfollows (account_id, day, channel, follows, refollows, unfollows,"  # noqa: S608
            " reconciled_unfollows) SELECT account_id, day, channel, follows, refollows, unfollows,"
            f" reconciled_unfollows FROM {_DAYS}"
        )
        cursor.execute(
            "INSERT INTO readmodels_followfancursor (account_id, openid, last_at, last_event_id, channel)"  # noqa: S608
            f" SELECT account_id, openid, last_at, last_event_id, channel FROM {_CURSORS}"
            " ORDER BY account_id, openid"
        )


def drop(*tables: str) -> None:
    # Qualified, so that only a TEMP table of that name can ever be dropped.
    schema = "pg_temp" if connection.vendor == "postgresql" else "temp"
    with connection.cursor() as cursor:
        for table in tables or (_LIFE, _STAGED, _DAYS, _CURSORS):
            cursor.execute(f"DROP TABLE IF EXISTS {schema}.{table}")
