"""The follower sync's bulk writes, by hand: through the ORM, building and adapting a million model
instances was most of a large first sync's time. Both run inside the page's transaction."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.db import connection

from liucun.accounts.models import OfficialAccount
from liucun.fans.models import Fan, FollowSource, SyncJob
from liucun.fans.sync_reading import CHUNK, chunks
from liucun.rawsql import Sql

_NEW_FAN = (
    "INSERT INTO fans_fan (account_id, openid, unionid, is_following, follow_state_at, first_followed_at, "
    "followed_at, follow_count, unfollow_count, channel, subscribe_scene, remark, attributes, "
    "profile_refreshed_at, last_seen_sync, created_at, updated_at) "
    "VALUES (%s, %s, %s, TRUE, %s, %s, %s, 1, 0, %s, %s, %s, %s, %s, %s, %s, %s) "
    "ON CONFLICT (account_id, openid) DO NOTHING"
)
_NEW_PERIOD = (
    "INSERT INTO fans_followperiod (account_id, fan_id, followed_at, unfollowed_at, channel, follow_source, "
    "unfollow_source) VALUES (%s, %s, %s, NULL, %s, %s, '')"
)


def insert_new_fans(
    job: SyncJob, account: OfficialAccount, infos: dict[str, dict[str, Any]], now: datetime
) -> int:
    """Create the followers Liucun never heard of, each with an open follow period; returns how many.

    Hand-written executemany: through the ORM, building and adapting a million model instances was most
    of a large first sync's time. Runs inside the page's transaction.
    """
    sql = Sql(connection)
    empty = sql.json({})
    rows = []
    for openid, info in infos.items():
        if not info.get("subscribe"):
            continue
        followed = sql.dt(datetime.fromtimestamp(int(info.get("subscribe_time", 0)), tz=UTC))
        scene = info.get("qr_scene_str") or (str(info["qr_scene"]) if info.get("qr_scene") else "")
        rows.append(
            (
                account.pk,
                openid,
                info.get("unionid", ""),
                followed,
                followed,
                followed,
                scene,
                info.get("subscribe_scene", ""),
                info.get("remark", ""),
                empty,
                sql.dt(now),
                job.pk,
                sql.dt(now),
                sql.dt(now),
            )
        )
    if not rows:
        return 0
    cursor = sql.cursor()
    if sql.postgres:
        return _insert_new_fans_postgres(sql, cursor, account.pk, rows)
    sql.executemany(cursor, _NEW_FAN, rows)
    # The fans this page created (a page written again after a crash finds them there already, with
    # their periods): follow_count 1 and seen by this sync, without a period yet.
    created: list[tuple[int, Any, str]] = []
    openids = [row[1] for row in rows]
    for chunk in chunks(openids, CHUNK):
        created.extend(
            Fan.objects.filter(account=account, openid__in=chunk, follow_count=1, last_seen_sync=job.pk)
            .exclude(follow_periods__isnull=False)
            .values_list("id", "followed_at", "channel")
        )
    sql.executemany(
        cursor,
        _NEW_PERIOD,
        [
            (account.pk, fan_id, sql.dt(followed), channel, FollowSource.SYNC.value)
            for fan_id, followed, channel in created
        ],
    )
    return len(created)


_NEW_FANS_PG = (
    "INSERT INTO fans_fan (account_id, openid, unionid, is_following, follow_state_at, first_followed_at, "
    "followed_at, follow_count, unfollow_count, channel, subscribe_scene, remark, attributes, "
    "profile_refreshed_at, last_seen_sync, created_at, updated_at) "
    "SELECT %s, o, u, TRUE, f, f, f, 1, 0, c, s, r, '{}'::jsonb, %s, %s, %s, %s "
    "FROM unnest(%s::text[], %s::text[], %s::timestamptz[], %s::text[], %s::text[], %s::text[]) "
    "AS t(o, u, f, c, s, r) "
    "ON CONFLICT (account_id, openid) DO NOTHING RETURNING id, followed_at, channel"
)
_NEW_PERIODS_PG = (
    "INSERT INTO fans_followperiod (account_id, fan_id, followed_at, unfollowed_at, channel, follow_source, "
    "unfollow_source) SELECT %s, i, f, NULL, c, %s, '' "
    "FROM unnest(%s::bigint[], %s::timestamptz[], %s::text[]) AS t(i, f, c)"
)


def _insert_new_fans_postgres(sql: Sql, cursor: Any, account_id: int, rows: list[tuple[Any, ...]]) -> int:
    """PostgreSQL: the page's new fans in one statement from arrays, and their periods in another.

    executemany sends one INSERT per fan (a round trip each inside the driver's pipeline); from arrays
    the server does one pass. RETURNING names exactly the fans this statement created.
    """
    columns = list(zip(*rows, strict=True))
    now, job_id = rows[0][10], rows[0][11]
    sql.execute(
        cursor,
        _NEW_FANS_PG,
        [account_id, now, job_id, now, now, list(columns[1]), list(columns[2]), list(columns[3]),
         list(columns[6]), list(columns[7]), list(columns[8])],
    )  # fmt: skip
    created = cursor.fetchall()
    if created:
        ids, followed, channels = (list(c) for c in zip(*created, strict=True))
        sql.execute(cursor, _NEW_PERIODS_PG, [account_id, FollowSource.SYNC.value, ids, followed, channels])
    return len(created)
