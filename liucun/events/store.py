"""Appending to the event store with hand-written SQL (the callback hot path; ADR 11)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from liucun.rawsql import Sql

_INSERT = (
    "INSERT INTO events_event "
    "(account_id, openid, kind, dedupe_key, wechat_time, received_at, source, payload, reply, "
    "rule_id, handoff) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
    "ON CONFLICT (account_id, dedupe_key) DO NOTHING RETURNING id"
)
_EXISTING = "SELECT id, reply FROM events_event WHERE account_id = %s AND dedupe_key = %s"


def append_event(
    cursor: Any,
    sql: Sql,
    *,
    account_id: int,
    openid: str,
    kind: str,
    dedupe_key: str,
    wechat_time: datetime,
    received_at: datetime,
    source: str,
    payload: Any,
    reply: str,
    rule_id: int | None = None,
    handoff: bool = False,
) -> int | None:
    """Insert one event; None when the account already holds an event with this dedupe key."""
    row = sql.execute(
        cursor,
        _INSERT,
        [
            account_id,
            openid,
            kind,
            dedupe_key,
            sql.dt(wechat_time),
            sql.dt(received_at),
            source,
            sql.json(payload),
            reply,
            rule_id,
            handoff,
        ],
    ).fetchone()
    return None if row is None else int(row[0])


def find_event(cursor: Any, sql: Sql, account_id: int, dedupe_key: str) -> tuple[int, str] | None:
    row = sql.execute(cursor, _EXISTING, [account_id, dedupe_key]).fetchone()
    return None if row is None else (int(row[0]), str(row[1]))
