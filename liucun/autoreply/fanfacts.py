"""Reading what rule conditions and placeholders need from the fan row, with hand-written SQL.

Used on the callback hot path (on the batch's own cursor) and by "try it", so both see the same facts.
"""

from __future__ import annotations

import json
from typing import Any

from liucun.autoreply.decision import FanFacts
from liucun.rawsql import Sql

_FAN = (
    "SELECT id, remark, attributes, channel, followed_at, last_message_at FROM fans_fan "
    "WHERE account_id = %s AND openid = %s"
)
_TAGS = "SELECT tag_id FROM tags_fantag WHERE fan_id = %s"
_VERSION = "SELECT version FROM autoreply_ruleset WHERE account_id = %s"
_CHANNEL = "SELECT name FROM channels_channel WHERE account_id = %s AND scene = %s"


def read_fan(cursor: Any, sql: Sql, account_id: int, openid: str, with_tags: bool) -> FanFacts:
    row = sql.execute(cursor, _FAN, [account_id, openid]).fetchone()
    if row is None:
        return FanFacts()
    attributes = row[2]
    if isinstance(attributes, str | bytes):
        attributes = json.loads(attributes)
    tags: frozenset[int] = frozenset()
    if with_tags:
        tags = frozenset(int(r[0]) for r in sql.execute(cursor, _TAGS, [row[0]]).fetchall())
    return FanFacts(
        id=int(row[0]),
        remark=row[1] or "",
        attributes=attributes if isinstance(attributes, dict) else {},
        channel=row[3] or "",
        followed_at=Sql.read_dt(row[4]),
        last_message_at=Sql.read_dt(row[5]),
        tags=tags,
    )


def read_version(cursor: Any, sql: Sql, account_id: int) -> int:
    row = sql.execute(cursor, _VERSION, [account_id]).fetchone()
    return 0 if row is None else int(row[0])


def read_channel_label(cursor: Any, sql: Sql, account_id: int, scene: str) -> str:
    """The name the account gave the channel (liucun.channels), else the scene itself."""
    row = sql.execute(cursor, _CHANNEL, [account_id, scene]).fetchone()
    return scene if row is None else str(row[0])
