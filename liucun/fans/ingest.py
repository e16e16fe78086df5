"""Applying an event to its fan with hand-written SQL: the storage side of fans/lifecycle.py.

Used on the callback hot path and by bulk import, so both share exactly one set of rules (ADR 11).
"""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime
from functools import lru_cache
from typing import Any

from liucun.fans.lifecycle import FanState, PeriodChange, apply_event, is_fan_action
from liucun.fans.models import FollowSource
from liucun.fans.unfollow_hooks import unfollowed
from liucun.rawsql import Sql

_STATE = [f.name for f in fields(FanState)]
_DATETIMES = {f.name for f in fields(FanState) if "datetime" in str(f.type)}

_SELECT = f"SELECT id, {', '.join(_STATE)} FROM fans_fan WHERE account_id = %s AND openid = %s"  # noqa: S608
# Creates the fan on first sight; if another transaction created it first, the DO UPDATE branch returns
# that row instead (and on PostgreSQL locks it).
_UPSERT = (
    "INSERT INTO fans_fan (account_id, openid, unionid, is_following, follow_count, unfollow_count, channel, "  # noqa: S608 - columns from FanState
    "subscribe_scene, remark, attributes, created_at, updated_at) "
    "VALUES (%s, %s, '', %s, 0, 0, '', '', '', %s, %s, %s) "
    "ON CONFLICT (account_id, openid) DO UPDATE SET updated_at = excluded.updated_at "
    f"RETURNING id, {', '.join(_STATE)}"
)
_OPEN = (
    "INSERT INTO fans_followperiod (account_id, fan_id, followed_at, unfollowed_at, channel, follow_source, "
    "unfollow_source) VALUES (%s, %s, %s, NULL, %s, %s, '')"
)
_CLOSE = (
    "UPDATE fans_followperiod SET unfollowed_at = %s, unfollow_source = %s WHERE id = ("
    "SELECT id FROM fans_followperiod WHERE fan_id = %s AND unfollowed_at IS NULL "
    "ORDER BY followed_at DESC LIMIT 1)"
)
_CLOSED_WITHOUT_START = (
    "INSERT INTO fans_followperiod (account_id, fan_id, followed_at, unfollowed_at, channel, follow_source, "
    "unfollow_source) VALUES (%s, %s, NULL, %s, '', '', %s)"
)


def record_fan_event(
    cursor: Any,
    sql: Sql,
    *,
    account_id: int,
    openid: str,
    kind: str,
    at: datetime,
    now: datetime,
    qr_scene: str | None = None,
    source: str = FollowSource.CALLBACK,
) -> int | None:
    """Apply one event to the fan who caused it; returns the fan id (None for non-fan events)."""
    if not is_fan_action(kind) and kind != "event.scan":
        return None
    fan_id, state = _load(cursor, sql, account_id, openid, now)
    before = [getattr(state, n) for n in _STATE]
    changes = apply_event(state, kind, at, qr_scene)
    # Only changed columns are written: SQLite rewrites every index that covers a column in SET.
    changed = [n for n, old in zip(_STATE, before, strict=True) if getattr(state, n) != old]
    if changed:
        values = [sql.dt(getattr(state, n)) if n in _DATETIMES else getattr(state, n) for n in changed]
        sql.execute(cursor, _update_statement(tuple(changed)), [*values, sql.dt(now), fan_id])
    for change in changes:
        _apply_period(cursor, sql, account_id=account_id, fan_id=fan_id, change=change, source=source)
    if "is_following" in changed and not state.is_following:
        unfollowed([fan_id])
    return fan_id


@lru_cache(maxsize=512)
def _update_statement(columns: tuple[str, ...]) -> str:
    assignments = ", ".join(f"{name} = %s" for name in columns)
    return f"UPDATE fans_fan SET {assignments}, updated_at = %s WHERE id = %s"  # noqa: S608 - FanState columns


def _load(cursor: Any, sql: Sql, account_id: int, openid: str, now: datetime) -> tuple[int, FanState]:
    row = sql.execute(cursor, _SELECT + sql.for_update, [account_id, openid]).fetchone()
    if row is None:
        stamp = sql.dt(now)
        row = sql.execute(cursor, _UPSERT, [account_id, openid, False, sql.json({}), stamp, stamp]).fetchone()
    values: dict[str, Any] = {
        name: (sql.read_dt(value) if name in _DATETIMES else value)
        for name, value in zip(_STATE, row[1:], strict=True)
    }
    state = FanState(**values)
    state.is_following = bool(state.is_following)
    return int(row[0]), state


def _apply_period(
    cursor: Any, sql: Sql, *, account_id: int, fan_id: int, change: PeriodChange, source: str
) -> None:
    if change.action == "open":
        sql.execute(cursor, _OPEN, [account_id, fan_id, sql.dt(change.at), change.channel, source])
        return
    if sql.execute(cursor, _CLOSE, [sql.dt(change.at), source, fan_id]).rowcount == 0:
        sql.execute(cursor, _CLOSED_WITHOUT_START, [account_id, fan_id, sql.dt(change.at), source])
