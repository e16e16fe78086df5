"""Loading a million fans quickly, with the spreads a real account has (bench only)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import connection, transaction

from liucun.accounts.models import OfficialAccount
from liucun.rawsql import Sql
from liucun.tags.models import Tag
from liucun.testing.factories import make_account

CHANNELS = [f"store_{i:03d}" for i in range(24)] + ["giveaway_01", "event_2026", "article", "", "", ""]
BATCH = 20_000


@dataclass
class World:
    account: OfficialAccount
    channels: list[str]
    tags: list[Tag]
    now: datetime


_FAN = (
    "INSERT INTO fans_fan (account_id, openid, unionid, is_following, follow_state_at, first_followed_at, "
    "followed_at, unfollowed_at, follow_count, unfollow_count, channel, subscribe_scene, last_message_at, "
    "last_event_at, last_interaction_at, remark, attributes, created_at, updated_at) "
    "VALUES (%s, %s, '', %s, %s, %s, %s, %s, 1, %s, %s, 'ADD_SCENE_QR_CODE', %s, NULL, %s, '', %s, %s, %s)"
)
_TAG = (
    "INSERT INTO tags_fantag (fan_id, tag_id, created_at) "
    "SELECT id, %s, %s FROM fans_fan WHERE account_id = %s AND is_following AND id {mod} %s = %s"
)


def load_fans(n: int, seed: int = 1) -> World:
    rng = random.Random(seed)
    account = make_account(name="bench 1M")
    now = datetime.now(UTC)
    sql = Sql(connection)
    empty = sql.json({})
    weights = [1 / (i + 1) for i in range(len(CHANNELS))]  # a few channels bring most fans
    with transaction.atomic():
        cursor = sql.cursor()
        rows = []
        for i in range(n):
            followed = now - timedelta(seconds=rng.randrange(3 * 365 * 86400))
            following = rng.random() < 0.7
            interacted = followed + (now - followed) * rng.random() if rng.random() < 0.4 else None
            message = interacted if interacted is not None and rng.random() < 0.5 else None
            if rng.random() < 0.02:  # a message in the last two days: the window is open
                message = interacted = now - timedelta(seconds=rng.randrange(48 * 3600))
            unfollowed = None if following else followed + (now - followed) * rng.random()
            rows.append(
                (
                    account.pk, f"o{seed:02d}{i:010d}bench", following, sql.dt(unfollowed or followed),
                    sql.dt(followed), sql.dt(followed), sql.dt(unfollowed), 0 if following else 1,
                    rng.choices(CHANNELS, weights)[0], sql.dt(message), sql.dt(interacted), empty,
                    sql.dt(now), sql.dt(now),
                )
            )  # fmt: skip
            if len(rows) == BATCH:
                sql.executemany(cursor, _FAN, rows)
                rows.clear()
        if rows:
            sql.executemany(cursor, _FAN, rows)
        tags = [Tag.objects.create(account=account, wechat_id=100 + t, name=f"标签{t}") for t in range(10)]
        for t, tag in enumerate(tags):
            # Tag t on every (t+7)-th fan: between 6% and 14% of fans each.
            # psycopg reads "%" as a placeholder, so its modulo is written "%%"; SQLite's is "%".
            statement = _TAG.format(mod="%%" if sql.postgres else "%")
            sql.execute(cursor, statement, [tag.pk, sql.dt(now), account.pk, t + 7, t])
    with connection.cursor() as c:
        # Statistics only, no VACUUM: on PostgreSQL the visibility map stays empty, as it is most of the time
        # on a busy fans table (every interaction updates a row), so no timing leans on index-only scans.
        c.execute("ANALYZE")
    return World(account, CHANNELS, tags, now)
