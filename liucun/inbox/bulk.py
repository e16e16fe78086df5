"""The conversations read model rebuilt set-based (ADR 21): a replay of `states.fan_spoke`, written in SQL.

A replay folds a fan's live events into its conversation in id order. After `reset` the fan-side columns
are plain aggregates of those events (messages, the latest message and handoff, the last event id). The
state is exact in SQL too, because the state machine moves at most once per rebuild:
  - a conversation that is not resolved is left alone by events older than its cycle (`opened_at`) or than
    the last reply; any other event makes it open and waiting since the earliest such event (a minimum,
    whatever the order), and nothing the consumer does resolves it again;
  - a resolved one reopens at the first event *by id* at or after its opening and after its resolution,
    as a new cycle measured from that event; every later event either predates the new cycle or leaves
    `waiting_since` at its opening, so nothing else changes;
  - a fan without a conversation gets one opened by its first event by id (a handoff or a message), open
    and waiting since then; its later events change nothing but the counts.

Where the time goes, and where the write lock is held. `stage` runs before the write transaction (without
SQLite's write lock, which callbacks wait for): one scan of the event store for the live events of the
consumer's kinds with id <= last_id, their per-fan aggregates, and the new values of every conversation
with such events, worked out from the conversations as they are then (one index seek each into the
staged events), with the inputs they were worked out from. Agents keep working meanwhile; so `fill`, in
the write transaction, first finds the conversations whose inputs changed since (or that appeared) in one
pass by primary key, works those few out again, and writes only the rows whose values change. The
fan-side columns are written by this consumer alone, which the runner's claim keeps to one worker, so the
conversations to zero and the fans without a conversation, staged too, stay true until the write.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.db import connection

from liucun.events.kinds import MESSAGE_KINDS, WINDOW_EVENT_KINDS
from liucun.events.models import EventSource
from liucun.inbox.models import OpenedBy, State
from liucun.rawsql import Sql

_LIVE = "liucun_bulk_inbox_live"  # the live events a replay folds: id, fan, time, message?, handoff?
_FANS = "liucun_bulk_inbox_fans"  # per fan: the fan-side columns, and its first event (a new conversation)
_SEEN = "liucun_bulk_inbox_seen"  # per conversation with events: the inputs read, the new values
_ZERO = "liucun_bulk_inbox_zero"  # conversations with counts but no event left to count: zeroed
_NEW = "liucun_bulk_inbox_new"  # fans with events and no conversation: one is opened
_STALE = "liucun_bulk_inbox_stale"  # conversations agents changed or deleted after `stage` read them
_AGAIN = "liucun_bulk_inbox_again"  # conversations worked out again under the lock

# The columns a replay writes (consumer.WRITTEN), and those of the agents' side its new values depend on.
_WRITTEN = (
    "state", "opened_by", "opened_at", "waiting_since", "first_response_at",
    "messages", "last_fan_message_at", "handoff_at", "last_event_id",
)  # fmt: skip
_INPUTS = (
    "state", "opened_by", "opened_at", "waiting_since", "first_response_at", "last_reply_at", "resolved_at",
)  # fmt: skip


def stage(last_id: int) -> None:
    """Fill the TEMP tables from the events with id <= last_id and the conversations (reads only)."""
    drop()
    postgres = connection.vendor == "postgresql"
    messages, window = sorted(MESSAGE_KINDS), sorted(WINDOW_EVENT_KINDS)
    with connection.cursor() as cursor:
        # An explicit primary key on the event id: the first event of each fan is found by it. On SQLite
        # it is the rowid, filled in order by the scan below.
        integer = "bigint" if postgres else "integer"
        moment = "timestamptz" if postgres else "datetime"
        cursor.execute(
            f"CREATE TEMPORARY TABLE {_LIVE} (id {integer} PRIMARY KEY, account_id {integer} NOT NULL,"
            f" openid varchar(64) NOT NULL, at {moment} NOT NULL, message smallint NOT NULL,"
            " handoff smallint NOT NULL)"
        )
        # What the replay folds: live callbacks only, every message, and the window events a rule handed
        # to a human (the consumer reads message kinds and window events; menu clicks open nothing alone).
        cursor.execute(
            f"INSERT INTO {_LIVE} (id, account_id, openid, at, message, handoff)"  # noqa: S608
            f" SELECT e.id, e.account_id, e.openid, e.wechat_time, CASE WHEN e.kind IN ({_marks(messages)})"
            " THEN 1 ELSE 0 END, CASE WHEN e.handoff THEN 1 ELSE 0 END"
            " FROM events_event e WHERE e.id <= %s AND e.source = %s"
            f" AND (e.kind IN ({_marks(messages)}) OR (e.handoff AND e.kind IN ({_marks(window)})))",
            [*messages, last_id, EventSource.CALLBACK, *messages, *window],
        )
        # The state's probes: a fan's events from a time on, in time order (and by id for a reopening).
        cursor.execute(f"CREATE INDEX {_LIVE}_fan ON {_LIVE} (account_id, openid, at, id)")
        cursor.execute(
            f"CREATE TEMPORARY TABLE {_FANS} AS SELECT g.*, l.at AS first_at,"  # noqa: S608
            " l.handoff AS first_handoff FROM ("
            "  SELECT account_id, openid, SUM(message) AS messages,"
            "   MAX(CASE WHEN message = 1 THEN at END) AS last_fan_message_at,"
            "   MAX(CASE WHEN handoff = 1 THEN at END) AS handoff_at,"
            f"   MAX(id) AS last_event_id, MIN(id) AS first_id FROM {_LIVE} GROUP BY account_id, openid"
            f" ) g JOIN {_LIVE} l ON l.id = g.first_id"
        )
        cursor.execute(f"CREATE UNIQUE INDEX {_FANS}_fan ON {_FANS} (account_id, openid)")
        _analyze(cursor, _LIVE, _FANS)
        cursor.execute(f"CREATE TEMPORARY TABLE {_SEEN} AS {_worked_out('1 = 1')}", _worked_out_params())
        cursor.execute(f"CREATE UNIQUE INDEX {_SEEN}_id ON {_SEEN} (id)")
        cursor.execute(
            f"CREATE TEMPORARY TABLE {_ZERO} AS SELECT c.id FROM inbox_conversation c"  # noqa: S608
            " WHERE (c.messages <> 0 OR c.last_fan_message_at IS NOT NULL OR c.handoff_at IS NOT NULL"
            "  OR c.last_event_id <> 0)"
            f" AND NOT EXISTS (SELECT 1 FROM {_FANS} f"
            "  WHERE f.account_id = c.account_id AND f.openid = c.openid)"
        )
        cursor.execute(
            f"CREATE TEMPORARY TABLE {_NEW} AS SELECT f.account_id, f.openid FROM {_FANS} f"  # noqa: S608
            " WHERE NOT EXISTS (SELECT 1 FROM inbox_conversation c"
            "  WHERE c.account_id = f.account_id AND c.openid = f.openid)"
        )
        _analyze(cursor, _SEEN, _ZERO, _NEW)


def lock() -> None:
    """Hold agents' writes to conversations until the transaction ends (PostgreSQL; SQLite's write lock
    does it already): the rows are checked and then written in separate statements. Taken first, before
    any row lock, so that an agent holding a row waits rather than deadlocks; reads go on."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("LOCK TABLE inbox_conversation IN EXCLUSIVE MODE")


def reset_staged() -> None:
    """Zero the fan-side columns of the conversations no staged event is counted for, in the write
    transaction, instead of every row: `fill` writes the others' columns where they change, so a rebuild
    that changes little holds the write lock for little more than reading."""
    lock()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE inbox_conversation SET messages = 0, last_fan_message_at = NULL, handoff_at = NULL,"  # noqa: S608
            f" last_event_id = 0 WHERE id IN (SELECT id FROM {_ZERO})"
        )


def fill() -> list[int]:
    """Write the staged rows into the conversations: in the write transaction, after `reset_staged`.
    Returns the accounts whose conversations it touched (a replay assigns their waiting conversations)."""
    lock()
    sql = Sql(connection)
    changed = " OR ".join(_differs(f"c.{column}", f"s.old_{column}") for column in _INPUTS)
    with connection.cursor() as cursor:
        # The one pass under the lock, by primary key: the conversations agents changed or deleted since.
        cursor.execute(
            f"CREATE TEMPORARY TABLE {_STALE} AS SELECT s.id, s.account_id, s.openid,"  # noqa: S608
            f" CASE WHEN c.id IS NULL THEN 1 ELSE 0 END AS gone FROM {_SEEN} s"
            f" LEFT JOIN inbox_conversation c ON c.id = s.id WHERE c.id IS NULL OR {changed}"
        )
        # Fans whose conversation is new (none was staged) or was deleted: whatever conversation they
        # have now is worked out again with the changed ones; those with none get one below.
        cursor.execute(
            f"INSERT INTO {_NEW} (account_id, openid) SELECT account_id, openid FROM {_STALE} WHERE gone = 1"  # noqa: S608
        )
        cursor.execute(
            f"CREATE TEMPORARY TABLE {_AGAIN} AS SELECT id FROM {_STALE} WHERE gone = 0"  # noqa: S608
            f" UNION SELECT c.id FROM {_NEW} n JOIN inbox_conversation c"
            " ON c.account_id = n.account_id AND c.openid = n.openid"
        )
        cursor.execute(
            f"DELETE FROM {_SEEN} WHERE id IN (SELECT id FROM {_STALE} UNION SELECT id FROM {_AGAIN})"  # noqa: S608
        )
        again = _worked_out(f"c.id IN (SELECT id FROM {_AGAIN})")  # noqa: S608
        cursor.execute(f"INSERT INTO {_SEEN} {again}", _worked_out_params())
        cursor.execute(
            f"UPDATE inbox_conversation SET {', '.join(f'{c} = s.new_{c}' for c in _WRITTEN)}"  # noqa: S608
            f" FROM {_SEEN} s WHERE inbox_conversation.id = s.id AND s.changes = 1"
        )
        # A fan without a conversation: opened by its first event, in the order a replay creates them.
        cursor.execute(
            "INSERT INTO inbox_conversation (account_id, openid, fan_id, state, opened_by, opened_at,"  # noqa: S608
            " waiting_since, last_fan_message_at, messages, handoff_at, last_event_id, read_messages,"
            " replies, updated_at)"
            " SELECT f.account_id, f.openid, fan.id, %s, CASE WHEN f.first_handoff = 1 THEN %s ELSE %s END,"
            " f.first_at, f.first_at, f.last_fan_message_at, f.messages, f.handoff_at, f.last_event_id,"
            f" 0, 0, %s FROM {_NEW} n JOIN {_FANS} f ON f.account_id = n.account_id AND f.openid = n.openid"
            " LEFT JOIN fans_fan fan ON fan.account_id = f.account_id AND fan.openid = f.openid"
            " WHERE NOT EXISTS (SELECT 1 FROM inbox_conversation c"
            "  WHERE c.account_id = f.account_id AND c.openid = f.openid)"
            " ORDER BY f.first_id",
            [State.OPEN, OpenedBy.HANDOFF, OpenedBy.MESSAGE, sql.dt(datetime.now(UTC))],
        )
        cursor.execute(f"SELECT DISTINCT account_id FROM {_FANS} ORDER BY account_id")  # noqa: S608
        return [int(row[0]) for row in cursor.fetchall()]


def drop() -> None:
    # Qualified, so that only a TEMP table of that name can ever be dropped.
    schema = "pg_temp" if connection.vendor == "postgresql" else "temp"
    with connection.cursor() as cursor:
        for table in (_AGAIN, _STALE, _NEW, _ZERO, _SEEN, _FANS, _LIVE):
            cursor.execute(f"DROP TABLE IF EXISTS {schema}.{table}")


def _worked_out(where: str) -> str:
    """The new values of the conversations with staged events that match `where` (on `c`), with the inputs
    they come from and whether any value changes. fan_spoke, per conversation: not resolved, the earliest
    event in the cycle and after the last reply reopens the wait (spoke_at); resolved, the first event by
    id in the cycle and after the resolution starts a new cycle (reopen_id)."""
    inputs = ", ".join(f"c.{column} AS old_{column}" for column in dict.fromkeys((*_INPUTS, *_WRITTEN)))
    probe = (
        f"SELECT c.id, c.account_id, c.openid, {inputs},"  # noqa: S608
        " f.messages AS new_messages, f.last_fan_message_at AS new_last_fan_message_at,"
        " f.handoff_at AS new_handoff_at, f.last_event_id AS new_last_event_id,"
        " CASE WHEN c.state <> %s THEN"
        f"  (SELECT l.at FROM {_LIVE} l WHERE l.account_id = c.account_id AND l.openid = c.openid"
        "   AND l.at >= c.opened_at AND (c.last_reply_at IS NULL OR l.at > c.last_reply_at)"
        "   ORDER BY l.at LIMIT 1) END AS spoke_at,"
        " CASE WHEN c.state = %s THEN"
        f"  (SELECT l.id FROM {_LIVE} l WHERE l.account_id = c.account_id AND l.openid = c.openid"
        "   AND l.at >= c.opened_at AND (c.resolved_at IS NULL OR l.at > c.resolved_at)"
        "   ORDER BY l.id LIMIT 1) END AS reopen_id"
        f" FROM inbox_conversation c JOIN {_FANS} f ON f.account_id = c.account_id AND f.openid = c.openid"
        f" WHERE {where}"
    )
    reopened = "p.reopen_id IS NOT NULL"
    moved = (
        "SELECT p.*,"  # noqa: S608
        f" CASE WHEN {reopened} OR p.spoke_at IS NOT NULL THEN '{State.OPEN.value}' ELSE p.old_state END"
        "  AS new_state,"
        f" CASE WHEN {reopened} THEN r.at ELSE p.old_opened_at END AS new_opened_at,"
        f" CASE WHEN NOT ({reopened}) THEN p.old_opened_by WHEN r.handoff = 1 THEN '{OpenedBy.HANDOFF.value}'"
        f"  ELSE '{OpenedBy.MESSAGE.value}' END AS new_opened_by,"
        f" CASE WHEN {reopened} THEN NULL ELSE p.old_first_response_at END AS new_first_response_at,"
        f" CASE WHEN {reopened} THEN r.at"
        "  WHEN p.spoke_at IS NOT NULL AND (p.old_waiting_since IS NULL OR p.spoke_at < p.old_waiting_since)"
        "  THEN p.spoke_at ELSE p.old_waiting_since END AS new_waiting_since"
        f" FROM probe p LEFT JOIN {_LIVE} r ON r.id = p.reopen_id"
    )
    kept = ", ".join(f"old_{column}" for column in _INPUTS)
    values = ", ".join(f"new_{column}" for column in _WRITTEN)
    changes = " OR ".join(_differs(f"new_{column}", f"old_{column}") for column in _WRITTEN)
    return (
        f"WITH probe AS MATERIALIZED ({probe}), moved AS ({moved})"  # noqa: S608
        f" SELECT id, account_id, openid, {kept}, {values}, CASE WHEN {changes} THEN 1 ELSE 0 END AS changes"
        " FROM moved"
    )


def _worked_out_params() -> list[str]:
    return [State.RESOLVED.value, State.RESOLVED.value]


def _differs(a: str, b: str) -> str:
    # NULL-safe: SQLite's IS NOT is PostgreSQL's IS DISTINCT FROM.
    if connection.vendor == "postgresql":
        return f"{a} IS DISTINCT FROM {b}"
    return f"{a} IS NOT {b}"


def _analyze(cursor: Any, *tables: str) -> None:
    # Autovacuum never analyses TEMP tables; without statistics PostgreSQL's planner guesses their size.
    if connection.vendor == "postgresql":
        for table in tables:
            cursor.execute(f"ANALYZE {table}")


def _marks(values: list[str]) -> str:
    return ", ".join(["%s"] * len(values))
