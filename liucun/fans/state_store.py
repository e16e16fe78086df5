"""The one writer of fan state and follow periods (ADR 17): what `fans/lifecycle.py` decides, stored.

Every INSERT into `fans_fan` and `fans_followperiod`, and every UPDATE of a fan's follow and window
columns, is here, by hand-written SQL on the driver's cursor (ADR 11). Three paths, one set of rules:

- per fan (`record_fan_event`): a callback, or a line of imported history, inside the ingest's
  transaction: read the fan's state (locked on PostgreSQL), apply the event, write the columns that
  changed and the period changes;
- per sync page (`store_sync_page`, `reconcile_unfollows`), inside the page's transaction: the followers
  Liucun never heard of are created in bulk (`executemany` on SQLite, one statement from arrays on
  PostgreSQL), each from the state `apply_event` gives an empty fan for `FOLLOW_FOUND`; fans believed
  gone and those believed following but missing from the list are few, and go through the per-fan
  write with their sync fact;
- per bulk history load (`insert_new_fans`): fans Liucun had no row for, each with the state
  `apply_event` gave it from its imported events in order, and the periods `fold_period_changes` kept.

What a sync-found follow sets (the rule is in lifecycle.py): for a fan Liucun believes gone, the sync has
read user/info (`fans/sync_reading.py` reads every listed fan not known as following), so the follow is
at its `subscribe_time` with its QR scene: `follow_count` +1, `followed_at` and `follow_state_at` at
that time, a new `FollowPeriod` with `follow_source` "sync" and the scene as its channel; `channel` and
`first_followed_at` only if Liucun never saw the fan follow. Without a profile (user/info left the fan
out) the follow is at the time the list page was read. If user/info says the fan is no longer
subscribed, the list was stale and nothing changes. Profile columns of known fans are left alone, as a
follow callback leaves them, and so are the window and interaction times: the sync saw no action.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from liucun.fans.lifecycle import (
    FOLLOW_FOUND,
    UNFOLLOW_RECONCILED,
    FanState,
    PeriodChange,
    apply_event,
    is_fan_action,
)
from liucun.fans.models import Fan, FollowPeriod, FollowSource
from liucun.fans.unfollow_hooks import unfollowed
from liucun.rawsql import Sql

_STATE = [f.name for f in fields(FanState)]
_DATETIMES = {f.name for f in fields(FanState) if "datetime" in str(f.type)}
_STATE_COLUMNS = ", ".join(_STATE)
# A new fan's columns, in one order for every insert: its state (lifecycle), what user/info said, marks.
_FAN_COLUMNS = (
    "account_id",
    "openid",
    *_STATE,
    "unionid",
    "subscribe_scene",
    "remark",
    "attributes",
    "profile_refreshed_at",
    "last_seen_sync",
    "created_at",
    "updated_at",
)
_PERIOD_COLUMNS = (
    "account_id",
    "fan_id",
    "followed_at",
    "unfollowed_at",
    "channel",
    "follow_source",
    "unfollow_source",
)
CHUNK = 500  # openids per IN (...): well below SQLite's parameter limit
_SYNC, _RECONCILED = FollowSource.SYNC.value, FollowSource.RECONCILED.value


def _values(columns: Sequence[str]) -> str:
    return f"({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))})"


# First sight of a fan in a callback; if another transaction created it first, the DO UPDATE branch
# returns that row instead (and on PostgreSQL locks it).
_UPSERT_FAN = (
    f"INSERT INTO fans_fan {_values(_FAN_COLUMNS)} "
    "ON CONFLICT (account_id, openid) DO UPDATE SET updated_at = excluded.updated_at "
    f"RETURNING id, {_STATE_COLUMNS}"
)
_SELECT_FAN = f"SELECT id, {_STATE_COLUMNS} FROM fans_fan WHERE account_id = %s AND openid = %s"  # noqa: S608
_INSERT_PERIOD = f"INSERT INTO fans_followperiod {_values(_PERIOD_COLUMNS)}"
_CLOSE_PERIOD = (
    "UPDATE fans_followperiod SET unfollowed_at = %s, unfollow_source = %s WHERE id = ("
    "SELECT id FROM fans_followperiod WHERE fan_id = %s AND unfollowed_at IS NULL "
    "ORDER BY followed_at DESC LIMIT 1)"
)


# -- per fan: callbacks and imported history ------------------------------------------------------------


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
    row = sql.execute(cursor, _SELECT_FAN + sql.for_update, [account_id, openid]).fetchone()
    if row is None:
        row = sql.execute(
            cursor, _UPSERT_FAN, _fan_row(sql, (account_id, openid, FanState()), None, now=now, seen_by=None)
        ).fetchone()
    fan_id, state = _read_state(sql, row)
    if _apply(
        cursor,
        sql,
        (account_id, fan_id, state),
        kind,
        at,
        qr_scene=qr_scene,
        sources=(source, source),
        now=now,
    ):
        unfollowed([fan_id])
    return fan_id


def _read_state(sql: Sql, row: Sequence[Any]) -> tuple[int, FanState]:
    values: dict[str, Any] = {
        name: (sql.read_dt(value) if name in _DATETIMES else value)
        for name, value in zip(_STATE, row[1:], strict=True)
    }
    state = FanState(**values)
    state.is_following = bool(state.is_following)
    return int(row[0]), state


def _apply(
    cursor: Any,
    sql: Sql,
    fan: tuple[int, int, FanState],
    kind: str,
    at: datetime,
    *,
    qr_scene: str | None,
    sources: tuple[str, str],
    now: datetime,
) -> bool:
    """Apply `kind` to a stored fan (account id, fan id, state) and write what changed; True if the fan
    stopped following. `sources`: the follow and unfollow source of the periods it opens or closes."""
    account_id, fan_id, state = fan
    follow_source, unfollow_source = sources
    before = [getattr(state, n) for n in _STATE]
    changes = apply_event(state, kind, at, qr_scene)
    # Only changed columns are written: SQLite rewrites every index that covers a column in SET.
    changed = [n for n, old in zip(_STATE, before, strict=True) if getattr(state, n) != old]
    if changed:
        values = [sql.dt(getattr(state, n)) if n in _DATETIMES else getattr(state, n) for n in changed]
        sql.execute(cursor, _update_statement(tuple(changed)), [*values, sql.dt(now), fan_id])
    for change in changes:
        if change.action == "open":
            sql.execute(cursor, _INSERT_PERIOD, _period_row(sql, account_id, fan_id, change, follow_source))
        elif sql.execute(cursor, _CLOSE_PERIOD, [sql.dt(change.at), unfollow_source, fan_id]).rowcount == 0:
            # An unfollow of a fan whose follow Liucun never saw: a period with no known start.
            sql.execute(
                cursor,
                _INSERT_PERIOD,
                [account_id, fan_id, None, sql.dt(change.at), "", "", unfollow_source],
            )
    return "is_following" in changed and not state.is_following


@lru_cache(maxsize=512)
def _update_statement(columns: tuple[str, ...]) -> str:
    assignments = ", ".join(f"{name} = %s" for name in columns)
    return f"UPDATE fans_fan SET {assignments}, updated_at = %s WHERE id = %s"  # noqa: S608 - FanState columns


def _fan_row(
    sql: Sql,
    fan: tuple[int, str, FanState],
    info: dict[str, Any] | None,
    *,
    now: datetime,
    seen_by: int | None,
    empty: Any = None,
) -> list[Any]:
    """A new fan's (account id, openid, state) as values in `_FAN_COLUMNS` order; `info` is its user/info
    profile when read."""
    account_id, openid, state = fan
    stamp = sql.dt(now)
    values: list[Any] = [account_id, openid]
    converted: tuple[Any, Any] = (None, None)
    for name in _STATE:
        value = getattr(state, name)
        if name in _DATETIMES and value is not None:
            # The follow's several columns share one time: convert it once.
            if converted[0] is not value:
                converted = (value, sql.dt(value))
            value = converted[1]
        values.append(value)
    if info is None:
        values += ["", "", "", sql.json({}) if empty is None else empty, None, seen_by, stamp, stamp]
    else:
        values += [
            info.get("unionid", ""),
            info.get("subscribe_scene", ""),
            info.get("remark", ""),
            sql.json({}) if empty is None else empty,
            stamp,
            seen_by,
            stamp,
            stamp,
        ]
    return values


def _period_row(sql: Sql, account_id: int, fan_id: int, change: PeriodChange, source: str) -> list[Any]:
    return [account_id, fan_id, sql.dt(change.at), None, change.channel, source, ""]


# -- per sync page ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PageResult:
    created: int
    refollowed: int


def store_sync_page(
    sql: Sql,
    *,
    account_id: int,
    job_id: int,
    openids: list[str],
    infos: dict[str, dict[str, Any]],
    read_at: datetime,
    now: datetime,
) -> PageResult:
    """Store what one user/get page says: every listed fan follows (as of `read_at`).

    `infos` holds the user/info profiles the sync read: of the fans Liucun did not know as following.
    Runs inside the page's transaction (on SQLite an IMMEDIATE one: nobody else writes meanwhile).
    """
    cursor = sql.cursor()
    try:
        gone = _gone_fans(cursor, sql, account_id, openids)
        created = _create_fans(
            cursor, sql, infos, gone, account_id=account_id, job_id=job_id, read_at=read_at, now=now
        )
        refollowed = 0
        for openid, (fan_id, state) in gone.items():
            info = infos.get(openid)
            if info is not None and not info.get("subscribe"):
                continue  # user/info, read after the list, says they left again: the list was stale
            at = _subscribe_time(info) or read_at
            fan = (account_id, fan_id, state)
            _apply(cursor, sql, fan, FOLLOW_FOUND, at, qr_scene=_scene(info), sources=(_SYNC, _SYNC), now=now)
            refollowed += state.is_following
        _mark_seen(cursor, sql, account_id, job_id, openids)
    finally:
        cursor.close()
    return PageResult(created, refollowed)


def _subscribe_time(info: dict[str, Any] | None) -> datetime | None:
    seconds = int(info.get("subscribe_time") or 0) if info else 0
    return datetime.fromtimestamp(seconds, tz=UTC) if seconds > 0 else None


def _scene(info: dict[str, Any] | None) -> str:
    if not info:
        return ""
    return str(info.get("qr_scene_str") or (info["qr_scene"] if info.get("qr_scene") else ""))


def _gone_fans(cursor: Any, sql: Sql, account_id: int, openids: list[str]) -> dict[str, tuple[int, FanState]]:
    """The listed fans Liucun believes are not following, with their state (locked on PostgreSQL)."""
    gone: dict[str, tuple[int, FanState]] = {}
    for chunk in _chunks(openids):
        statement = (
            f"SELECT id, {_STATE_COLUMNS}, openid FROM fans_fan WHERE account_id = %s "  # noqa: S608
            f"AND openid IN ({', '.join(['%s'] * len(chunk))}) AND is_following = FALSE "
            f"ORDER BY openid{sql.for_update}"
        )
        for row in sql.execute(cursor, statement, [account_id, *chunk]).fetchall():
            gone[row[-1]] = _read_state(sql, row[:-1])
    return gone


def _create_fans(
    cursor: Any,
    sql: Sql,
    infos: dict[str, dict[str, Any]],
    gone: dict[str, tuple[int, FanState]],
    *,
    account_id: int,
    job_id: int,
    read_at: datetime,
    now: datetime,
) -> int:
    """Create the listed followers Liucun never heard of, each with its open follow period."""
    candidates = [o for o, info in infos.items() if info.get("subscribe") and o not in gone]
    if not sql.postgres:
        # The reader chose these outside this transaction; a callback may have created some since.
        known = _existing(cursor, sql, account_id, candidates)
        candidates = [o for o in candidates if o not in known]
    if not candidates:
        return 0
    empty = sql.json({})
    rows, periods = [], {}
    for openid in candidates:
        info = infos[openid]
        state = FanState()
        periods[openid] = apply_event(state, FOLLOW_FOUND, _subscribe_time(info) or read_at, _scene(info))
        rows.append(_fan_row(sql, (account_id, openid, state), info, now=now, seen_by=job_id, empty=empty))
    if sql.postgres:
        # RETURNING names exactly the fans this statement created (ON CONFLICT skips the others).
        created = bulk_insert(sql, cursor, "fans_fan", _FAN_COLUMNS, rows, returning="openid, id")
    else:
        bulk_insert(sql, cursor, "fans_fan", _FAN_COLUMNS, rows)
        created = _existing(cursor, sql, account_id, candidates)
    bulk_insert(
        sql,
        cursor,
        "fans_followperiod",
        _PERIOD_COLUMNS,
        [
            _period_row(sql, account_id, fan_id, change, _SYNC)
            for openid, fan_id in created.items()
            for change in periods[openid]
        ],
    )
    return len(created)


def _existing(cursor: Any, sql: Sql, account_id: int, openids: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for chunk in _chunks(openids):
        statement = (
            "SELECT openid, id FROM fans_fan WHERE account_id = %s "  # noqa: S608 - placeholders only
            f"AND openid IN ({', '.join(['%s'] * len(chunk))})"
        )
        found.update(sql.execute(cursor, statement, [account_id, *chunk]).fetchall())
    return found


def _mark_seen(cursor: Any, sql: Sql, account_id: int, job_id: int, openids: list[str]) -> None:
    for chunk in _chunks(openids):
        statement = (
            "UPDATE fans_fan SET last_seen_sync = %s WHERE account_id = %s "  # noqa: S608
            f"AND openid IN ({', '.join(['%s'] * len(chunk))}) "
            "AND (last_seen_sync IS NULL OR last_seen_sync <> %s)"
        )
        sql.execute(cursor, statement, [job_id, account_id, *chunk, job_id])


def reconcile_unfollows(
    sql: Sql, *, account_id: int, job_id: int, started_at: datetime, now: datetime
) -> list[str]:
    """Fans believed following whom the finished sync `job_id` did not find, and whose last follow is
    older than the sync, unfollow now (`UNFOLLOW_RECONCILED`); returns their openids."""
    cursor = sql.cursor()
    try:
        statement = (
            f"SELECT id, {_STATE_COLUMNS}, openid FROM fans_fan WHERE account_id = %s "  # noqa: S608
            "AND is_following = TRUE AND (last_seen_sync IS NULL OR last_seen_sync <> %s) "
            f"AND (follow_state_at IS NULL OR follow_state_at < %s) ORDER BY openid{sql.for_update}"
        )
        rows = sql.execute(cursor, statement, [account_id, job_id, sql.dt(started_at)]).fetchall()
        gone_ids, gone = [], []
        for row in rows:
            fan_id, state = _read_state(sql, row[:-1])
            fan = (account_id, fan_id, state)
            if _apply(
                cursor, sql, fan, UNFOLLOW_RECONCILED, now, qr_scene=None, sources=("", _RECONCILED), now=now
            ):
                gone_ids.append(fan_id)
                gone.append(row[-1])
    finally:
        cursor.close()
    unfollowed(gone_ids)
    return gone


# -- bulk statements -------------------------------------------------------------------------------------


def bulk_insert(
    sql: Sql,
    cursor: Any,
    table: str,
    columns: Sequence[str],
    rows: list[list[Any]],
    *,
    returning: str = "",
) -> dict[Any, Any]:
    """Insert `rows` (values in `columns` order) in one go; with `returning` (two columns), a dict of
    what the inserted rows return (PostgreSQL only).

    SQLite: `executemany`. PostgreSQL: one `INSERT ... SELECT FROM unnest(arrays)` (executemany sends one
    statement per row; from arrays the server does one pass), with a column that holds one value for
    every row sent as that one value.
    """
    if not rows:
        return {}
    if not sql.postgres:
        assert not returning
        sql.executemany(cursor, _insert_statement(table, tuple(columns)), rows)
        return {}
    by_column = list(zip(*rows, strict=True))
    single = tuple(values.count(values[0]) == len(values) for values in by_column)
    if all(single):
        single = (False, *single[1:])  # n rows need at least one array of n
    sql.execute(
        cursor,
        _unnest_statement(table, tuple(columns), single, returning),
        # The statement names the single values first (in its select list), then the arrays.
        [values[0] for values, one in zip(by_column, single, strict=True) if one]
        + [list(values) for values, one in zip(by_column, single, strict=True) if not one],
    )
    return dict(cursor.fetchall()) if returning else {}


@lru_cache(maxsize=8)
def _insert_statement(table: str, columns: tuple[str, ...]) -> str:
    statement = f"INSERT INTO {table} {_values(columns)}"
    return statement + (" ON CONFLICT (account_id, openid) DO NOTHING" if table == "fans_fan" else "")


@lru_cache(maxsize=64)
def _unnest_statement(table: str, columns: tuple[str, ...], single: tuple[bool, ...], returning: str) -> str:
    types = _pg_types(table)
    arrays = [f"%s::{types[c]}[]" for c, one in zip(columns, single, strict=True) if not one]
    names = iter(f"a{i}" for i in range(len(arrays)))
    select = [f"%s::{types[c]}" if one else next(names) for c, one in zip(columns, single, strict=True)]
    statement = (
        f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(select)} "  # noqa: S608
        f"FROM unnest({', '.join(arrays)}) AS t({', '.join(f'a{i}' for i in range(len(arrays)))})"
    )
    if table == "fans_fan":
        statement += " ON CONFLICT (account_id, openid) DO NOTHING"
    return statement + (f" RETURNING {returning}" if returning else "")


@lru_cache(maxsize=4)
def _pg_types(table: str) -> dict[str, str]:
    from django.db import connection

    model = Fan if table == "fans_fan" else FollowPeriod
    return {f.column: str(f.db_type(connection)) for f in model._meta.concrete_fields}


def _chunks(items: list[str]) -> Any:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


# -- fans first seen in a bulk history load ---------------------------------------------------------------

# A follow period kept in memory until its fan is stored: values in `_PERIOD_COLUMNS` order after the fan
# id (followed_at, unfollowed_at, channel, follow_source, unfollow_source).
PendingPeriod = list[Any]


def fold_period_changes(periods: list[PendingPeriod], changes: list[PeriodChange], source: str) -> None:
    """Keep in memory what `_apply` writes for `changes`, for a fan that is not stored yet: an open adds
    a period; a close ends the open period with the latest start, or records one with no known start."""
    for change in changes:
        if change.action == "open":
            periods.append([change.at, None, change.channel, source, ""])
            continue
        open_ones = [p for p in periods if p[1] is None]
        if open_ones:
            latest = max(open_ones, key=lambda p: p[0])
            latest[1], latest[4] = change.at, source
        else:
            periods.append([None, change.at, "", "", source])


def insert_new_fans(
    sql: Sql,
    cursor: Any,
    *,
    account_id: int,
    fans: Sequence[tuple[str, FanState, list[PendingPeriod]]],
    now: datetime,
    chunk: int = 20_000,
) -> dict[str, int]:
    """Store fans Liucun had no row for, each with the state `apply_event` gave it from its history and
    its follow periods; returns openid -> id of the fans this call created.

    A fan that exists by now (created by a callback meanwhile) is skipped and left out of the result, so
    the caller can apply its history the per-fan way. On SQLite the caller holds the write lock, so the
    fans it checked for are still missing.
    """
    empty = sql.json({})
    created: dict[str, int] = {}
    for start in range(0, len(fans), chunk):
        part = fans[start : start + chunk]
        rows = [
            _fan_row(sql, (account_id, openid, state), None, now=now, seen_by=None, empty=empty)
            for openid, state, _ in part
        ]
        if sql.postgres:
            made = bulk_insert(sql, cursor, "fans_fan", _FAN_COLUMNS, rows, returning="openid, id")
        else:
            bulk_insert(sql, cursor, "fans_fan", _FAN_COLUMNS, rows)
            made = _existing(cursor, sql, account_id, [openid for openid, _, _ in part])
        periods = [
            [account_id, made[openid], *(sql.dt(v) if k < 2 else v for k, v in enumerate(period))]
            for openid, _, pending in part
            if openid in made
            for period in pending
        ]
        bulk_insert(sql, cursor, "fans_followperiod", _PERIOD_COLUMNS, periods)
        created.update(made)
    return created
