"""The hourly-flows tables rebuilt set-based: consumer.contribution in SQL (Consumer.rebuild_bulk).

The same shape as the daily-follows rebuild (readmodels/daily_follows_bulk.py): one scan stages every
follow and unfollow with id <= last_id with its hour (unix seconds // 3600, the consumer's hour_of); a
running count of each fan's follows, by (WeChat time, id), cuts its history into groups that start at a
follow, so an event's channel is its group's follow's ("" before the first follow); the fan's last event
gives its cursor. TEMP tables hold the hour rows, the totals and the cursors; only the copy runs inside
the write transaction.
"""

from __future__ import annotations

from django.db import connection

from liucun.events.kinds import FOLLOW, UNFOLLOW, UNFOLLOW_RECONCILED
from liucun.readmodels.bulksql import payload_text
from liucun.readmodels.consumer import StagedCopy
from liucun.wechat.messages import QR_SCENE_PREFIX

_LIFE = "liucun_bulk_push_life"
_STAGED = "liucun_bulk_push_events"
_HOURS = "liucun_bulk_push_hours"
_CURSORS = "liucun_bulk_push_cursors"


def _hour(column: str) -> str:
    if connection.vendor == "postgresql":
        return f"FLOOR(EXTRACT(EPOCH FROM {column}) / 3600)::bigint"
    # Django's SQLite backend stores naive UTC text, which strftime reads as UTC.
    return f"(CAST(strftime('%%s', {column}) AS INTEGER) / 3600)"


def stage(last_id: int) -> None:
    """Fill the TEMP tables from the events with id <= last_id (reads the event store only)."""
    drop()
    key = payload_text("e.payload", "EventKey")
    prefix = len(QR_SCENE_PREFIX)
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMPORARY TABLE {_LIFE} AS"  # noqa: S608 (names and expressions are ours)
            f" SELECT e.id, e.account_id, e.openid, e.kind, e.wechat_time, {_hour('e.wechat_time')} AS hour,"
            "  CASE WHEN e.kind = %s THEN"
            f"   CASE WHEN substr(COALESCE({key}, ''), 1, {prefix}) = %s THEN substr({key}, {prefix + 1})"
            "   ELSE '' END"
            "  END AS follow_channel"
            " FROM events_event e WHERE e.id <= %s AND e.kind IN (%s, %s, %s)",
            [FOLLOW, QR_SCENE_PREFIX, last_id, FOLLOW, UNFOLLOW, UNFOLLOW_RECONCILED],
        )
        cursor.execute(
            f"CREATE TEMPORARY TABLE {_STAGED} AS "  # noqa: S608
            "WITH numbered AS ("
            f" SELECT {_LIFE}.*,"
            "  COUNT(follow_channel) OVER (fan ROWS UNBOUNDED PRECEDING) AS follow_no,"
            "  ROW_NUMBER() OVER (PARTITION BY account_id, openid ORDER BY wechat_time DESC, id DESC)"
            "   AS from_last"
            f" FROM {_LIFE} WINDOW fan AS (PARTITION BY account_id, openid ORDER BY wechat_time, id)"
            ") SELECT id, account_id, openid, kind, wechat_time, hour, from_last,"
            " COALESCE(MAX(follow_channel) OVER (PARTITION BY account_id, openid, follow_no), '') AS channel"
            " FROM numbered"
        )
        drop(_LIFE)
        cursor.execute(
            f"CREATE TEMPORARY TABLE {_HOURS} AS SELECT account_id, hour, channel,"  # noqa: S608
            " SUM(CASE WHEN kind = %s THEN 1 ELSE 0 END) AS follows,"
            " SUM(CASE WHEN kind = %s THEN 1 ELSE 0 END) AS unfollows,"
            " SUM(CASE WHEN kind = %s THEN 1 ELSE 0 END) AS reconciled"
            f" FROM {_STAGED} GROUP BY account_id, hour, channel",
            [FOLLOW, UNFOLLOW, UNFOLLOW_RECONCILED],
        )
        cursor.execute(
            f"CREATE TEMPORARY TABLE {_CURSORS} AS"  # noqa: S608
            " SELECT account_id, openid, wechat_time AS last_at, id AS last_event_id, channel"
            f" FROM {_STAGED} WHERE from_last = 1 ORDER BY account_id, openid"
        )
    drop(_STAGED)


def copies() -> list[StagedCopy]:
    """What moves the staged rows into the (empty) tables."""
    hours = "account_id, hour, channel, follows, unfollows, reconciled"
    totals = "account_id, hour, follows, unfollows, reconciled"
    cursors = "account_id, openid, last_at, last_event_id, channel"
    return [
        StagedCopy.of("pushimpact_hourlyflows", hours, _HOURS),
        StagedCopy(
            "pushimpact_hourlytotals",
            totals,
            "SELECT account_id, hour, SUM(follows), SUM(unfollows), SUM(reconciled)"  # noqa: S608
            f" FROM {_HOURS} GROUP BY account_id, hour",
        ),
        StagedCopy.of("pushimpact_flowfancursor", cursors, _CURSORS, order="account_id, openid"),
    ]


def drop(*tables: str) -> None:
    # Qualified, so that only a TEMP table of that name can ever be dropped.
    schema = "pg_temp" if connection.vendor == "postgresql" else "temp"
    with connection.cursor() as cursor:
        for table in tables or (_LIFE, _STAGED, _HOURS, _CURSORS):
            cursor.execute(f"DROP TABLE IF EXISTS {schema}.{table}")
