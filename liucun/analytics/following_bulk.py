"""The "following" tables rebuilt set-based: following.contribution in SQL (Consumer.rebuild_bulk, ADR 21).

From the follow periods staged by readmodels/lifecycle_bulk.py (a follow when the fan is not following, or
unknown, opens one; the next unfollow ends it):
  - gained: a period on the day it opened, under the channel of the follow that opened it;
  - lost: a period that ended, on the day of its unfollow, under the same channel; and an unfollow that is
    the fan's first event (they followed before Liucun saw them) under "". Any other unfollow (after an
    unfollow) ends nothing and counts nowhere;
  - the cursor: the fan's latest event (time, id), following when it is a follow, and then the channel of
    the period it is in, else "".
TEMP tables hold the rows to copy: the copy is all that runs inside the write transaction (on SQLite,
with the lock callbacks wait for).
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from django.db import connection

from liucun.events.kinds import FOLLOW
from liucun.readmodels import bulksql, lifecycle_bulk
from liucun.readmodels.consumer import StagedCopy
from liucun.readmodels.lifecycle_bulk import EVENTS, PERIODS

_DAYS = "liucun_bulk_following_days"
_CURSORS = "liucun_bulk_following_cursors"


def stage(last_id: int, tz: ZoneInfo) -> None:
    """Fill the TEMP tables copy() reads from the lifecycle events with id <= last_id (reads only)."""
    _drop_own()
    lifecycle_bulk.stage(last_id, tz, periods=True)
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMPORARY TABLE {_DAYS} AS"  # noqa: S608 (names are ours)
            " SELECT account_id, day, channel, SUM(gained) AS gained, SUM(lost) AS lost FROM ("
            f"  SELECT account_id, open_day AS day, channel, 1 AS gained, 0 AS lost FROM {PERIODS}"
            "  UNION ALL"
            f"  SELECT account_id, close_day, channel, 0, 1 FROM {PERIODS} WHERE closed_at IS NOT NULL"
            "  UNION ALL"
            f"  SELECT account_id, day, '', 0, 1 FROM {EVENTS} WHERE nth = 1 AND kind <> %s"
            " ) changes GROUP BY account_id, day, channel",
            [FOLLOW],
        )
        # Keyed by fan, so that on SQLite the copy in fan order (the order of the table's index) is a walk
        # rather than a sort inside the write transaction.
        bulksql.temp_table(
            cursor,
            _CURSORS,
            "account_id bigint, openid {text}, last_at {time}, last_event_id bigint, following boolean,"
            " channel {text}",
            "account_id, openid",
        )
        # The period a fan's latest event is in is still open when that event is a follow.
        cursor.execute(
            f"INSERT INTO {_CURSORS} (account_id, openid, last_at, last_event_id, following, channel)"  # noqa: S608
            " SELECT e.account_id, e.openid, e.wechat_time, e.id, e.kind = %s, COALESCE(p.channel, '')"
            f" FROM {EVENTS} e LEFT JOIN {PERIODS} p ON p.account_id = e.account_id"
            "  AND p.openid = e.openid AND p.grp = e.grp AND p.closed_at IS NULL"
            " WHERE e.is_last = 1",
            [FOLLOW],
        )


def copies() -> list[StagedCopy]:
    """What moves the staged rows into the (empty) tables."""
    days = "account_id, day, channel, gained, lost"
    cursors = "account_id, openid, last_at, last_event_id, following, channel"
    return [
        StagedCopy.of("analytics_followingchange", days, _DAYS),
        StagedCopy.of("analytics_followingfancursor", cursors, _CURSORS, order="account_id, openid"),
    ]


def drop() -> None:
    """Drop what stage() made, and let go of the lifecycle staging."""
    _drop_own()
    lifecycle_bulk.release()


def _drop_own() -> None:
    # Qualified, so that only a TEMP table of that name can ever be dropped.
    schema = "pg_temp" if bulksql.postgres() else "temp"
    with connection.cursor() as cursor:
        for table in (_DAYS, _CURSORS):
            cursor.execute(f"DROP TABLE IF EXISTS {schema}.{table}")
