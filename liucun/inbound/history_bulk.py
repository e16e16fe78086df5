"""The bulk path of `liucun import-history`: a wxsim bulk file stored at hundreds of thousands of events
a second, with the same rows as the per-event path (`history_import.import_history`).

What makes it the same:

- What an event means comes from the protocol layer. For each distinct (kind, detail) of the file one
  record goes through `message_from_fields`, which gives its kind, QR scene, dedupe key and payload; the
  other records of that shape differ only in openid, time and MsgId, which are put into the same text.
  Every shape is checked against the protocol layer on its first record.
- Fan state comes from the one rule book: `lifecycle.apply_event` per fan, in file order, for every
  event the per-event path would store (a repeated dedupe key in the file is a duplicate there too), and
  `fans/state_store.py` writes the fans and their follow periods.
- Imported history is not answered (as in `inbound/actions.py`): no reply, no rule, no handoff.

Which fans take which path: a fan with a row when the import starts has had events applied already, so
its events go through the per-event path (`store_deliveries`), minus those whose dedupe key is stored
already (the per-event path would skip them as duplicates). A fan without a row has had none applied
(every stored fan action creates its fan in the same transaction, and erasure keeps the row), so its
state is computed from all of its events in the file; its events are stored in large batches with ON
CONFLICT DO NOTHING (rows left by an interrupted bulk run are skipped), and the fans and their periods
are written at the end. A fan a callback created while the import ran gets its imported events applied
one by one at the end, as if the per-event import had run after that callback.

Events are stored fan by fan (`_fan_major`), so their ids follow that order rather than the file's: at a
million fans it is what keeps the event table's indexes from taking a random page write per event.

An interrupted bulk import leaves events without their fans; running it again completes it exactly.
PostgreSQL: COPY (straight into the event table when the account had no events, else through a staging
table and INSERT ... ON CONFLICT DO NOTHING). SQLite: one `INSERT ... SELECT` over `json_each` of the
batch's rows, one transaction per batch with the write lock held (ADR 6), so live callbacks wait at most
one batch. A single statement keeps the rows' binding out of Python and lets SQLite run the whole batch
with the GIL released, while a thread works out the next batch (`prefetch.Prefetch`): the database and
Python overlap on two cores instead of taking turns.
"""

from __future__ import annotations

import json
import re
import time
from array import array
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache

from django.db import IntegrityError, connection, transaction

from liucun.events.models import EventSource
from liucun.fans.lifecycle import FanState, apply_event
from liucun.fans.models import FollowSource
from liucun.fans.state_store import PendingPeriod, fold_period_changes, insert_new_fans, record_fan_event
from liucun.inbound.accounts_cache import CallbackAccount
from liucun.inbound.actions import Delivery, Outcome, store_deliveries
from liucun.inbound.history_import import HistoryFile, check_account
from liucun.inbound.prefetch import Prefetch
from liucun.rawsql import Sql
from liucun.sqlite_writelock import serialized_writes
from liucun.wechat.messages import SubscribeEvent, message_from_fields

_SOURCE = EventSource.IMPORT.value
_PERIOD_SOURCE = FollowSource.IMPORT.value
_OPENID, _TIME, _MSGID = "\x00openid\x00", "\x00time\x00", "\x00msgid\x00"
_EVENT_KINDS = (0, 1, 3, 4)  # the file's kinds stored as WeChat events (dedupe key by openid and time)
_LOOKUP = 500  # dedupe keys per IN (...)

# Rows arrive as one JSON array of [openid, kind, dedupe key, WeChat time, payload text]; json_each keeps
# the array's order, so ids follow the file as with one INSERT per row. (WHERE true: SQLite's parser needs
# it between a SELECT and ON CONFLICT.)
_SQLITE_INSERT = (
    "INSERT INTO events_event (account_id, openid, kind, dedupe_key, wechat_time, received_at, source, "
    "payload, reply, rule_id, handoff) SELECT ?, json_extract(value, '$[0]'), json_extract(value, '$[1]'), "
    "json_extract(value, '$[2]'), json_extract(value, '$[3]'), ?, ?, json_extract(value, '$[4]'), "
    "'', NULL, 0 "
    "FROM json_each(?) WHERE true ON CONFLICT (account_id, dedupe_key) DO NOTHING"
)
# Openids go into COPY lines and JSON text unescaped: a file whose openids need escaping takes the per-event
# path (WeChat's openids are 28 characters of this alphabet).
_PLAIN_OPENID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_COLUMNS = (
    "account_id, received_at, source, reply, rule_id, handoff, openid, kind, dedupe_key, wechat_time, payload"
)
_STAGING = (
    "CREATE TEMPORARY TABLE IF NOT EXISTS liucun_history_staging (account_id bigint, "
    "received_at timestamptz, source varchar(16), reply text, rule_id bigint, handoff boolean, "
    "openid varchar(64), kind varchar(64), "
    "dedupe_key varchar(200), wechat_time timestamptz, payload jsonb) ON COMMIT DELETE ROWS"
)
_FROM_STAGING = (
    f"INSERT INTO events_event ({_COLUMNS}) SELECT {_COLUMNS} FROM liucun_history_staging "  # noqa: S608
    "ON CONFLICT (account_id, dedupe_key) DO NOTHING"
)


class BulkRefused(Exception):
    """The file cannot go through the bulk path (it can still go through the per-event path)."""


@dataclass
class BulkStats:
    events: int = 0
    stored: int = 0
    duplicates: int = 0
    failed: int = 0
    per_event: int = 0  # events of fans that existed before, stored through the per-event path
    fans_created: int = 0
    fans_late: int = 0  # fans a callback created while the import ran (their history applied one by one)
    phases: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class _Batch:
    """One batch of the file worked out: the rows to store (COPY lines on PostgreSQL, JSON arrays on
    SQLite), the records of fans that existed before (per-event path) and the file's repeated keys."""

    records: int
    rows: list[str]
    old_fans: list[int]
    duplicates: int


@dataclass(frozen=True)
class _Shape:
    """How the records of one (kind, detail) become an event: the kind, QR scene, dedupe key and payload
    the protocol layer gives them, with openid, time and MsgId left open."""

    kind: str
    qr_scene: str | None
    is_message: bool
    key_suffix: str  # after "evt:<openid>:<time>" for events
    parts: tuple[str, ...]  # payload JSON around openid, time (and MsgId)
    copy_parts: tuple[str, ...]  # the same, escaped for COPY's text format
    json_parts: tuple[str, ...]  # the same, escaped as the inside of a JSON string (SQLite's batch)
    json_kind: str
    json_key_suffix: str


def _shape(history: HistoryFile, i: int) -> _Shape:
    fields = history.fields(i)
    message = message_from_fields(fields)
    is_message = "MsgId" in fields
    marked = {**fields, "FromUserName": _OPENID, "CreateTime": _TIME}
    if is_message:
        marked["MsgId"] = _MSGID
    text = json.dumps(marked, ensure_ascii=False, separators=(",", ":"))
    markers = [json.dumps(m)[1:-1] for m in (_OPENID, _TIME, _MSGID)]
    parts: list[str] = []
    rest = text
    for marker in markers if is_message else markers[:2]:
        head, found, rest = rest.partition(marker)
        if not found:
            raise BulkRefused("a record's fields are not in the expected order")
        parts.append(head)
    parts.append(rest)
    qr_scene = message.qr_scene if isinstance(message, SubscribeEvent) else None
    prefix = f"evt:{message.from_user}:{message.create_time}"
    key_suffix = "" if is_message else message.dedupe_key.removeprefix(prefix)
    shape = _Shape(
        kind=message.kind,
        qr_scene=qr_scene,
        is_message=is_message,
        key_suffix=key_suffix,
        parts=tuple(parts),
        copy_parts=tuple(_copy_escape(p) for p in parts),
        json_parts=tuple(_json_escape(p) for p in parts),
        json_kind=_json_escape(message.kind),
        json_key_suffix=_json_escape(key_suffix),
    )
    # The shape must give what the protocol layer gives for this very record.
    values = [message.from_user, str(message.create_time)] + ([str(fields["MsgId"])] if is_message else [])
    payload = _fill(shape.parts, values)
    key = f"msg:{fields['MsgId']}" if is_message else prefix + shape.key_suffix
    if json.loads(payload) != dict(message.raw) or key != message.dedupe_key:
        raise BulkRefused(f"record {i} does not read back as the protocol layer reads it")
    return shape


def _driver_integrity_error() -> type[Exception]:
    """The driver's own IntegrityError: the raw cursor raises it, not Django's."""
    return connection.Database.IntegrityError  # type: ignore[attr-defined]


def _fill(parts: Sequence[str], values: Sequence[str]) -> str:
    out = [parts[0]]
    for value, part in zip(values, parts[1:], strict=True):
        out += [value, part]
    return "".join(out)


def _copy_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _json_escape(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)[1:-1]


@lru_cache(maxsize=4096)
def _day(days: int) -> str:
    return str(datetime.fromtimestamp(days * 86400, tz=UTC).date()) + " "


_HMS = [f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}" for s in range(86400)]


def sql_time(seconds: int) -> str:
    """A whole-second unix time as Django's SQLite backend stores it ('YYYY-MM-DD HH:MM:SS', UTC)."""
    return _day(seconds // 86400) + _HMS[seconds % 86400]


class BulkImport:
    """One bulk import of `history` (a history_import.HistoryFile) into `account`."""

    def __init__(
        self,
        history: HistoryFile,
        account: CallbackAccount,
        *,
        batch: int | None = None,
        start: int = 0,
        limit: int | None = None,
        progress: Callable[[BulkStats], None] | None = None,
    ) -> None:
        check_account(history, account)
        self.history, self.account = history, account
        self.sql = Sql(connection)
        self.batch = batch or (200_000 if self.sql.postgres else 50_000)
        self.start = start
        self.end = history.events if limit is None else min(history.events, start + limit)
        self.progress = progress
        self.stats = BulkStats()
        header = history.header
        self.msg_base = (int(header["seed"]) % 2**20) * 2**40
        self.openids = [history.openid(f) for f in range(int(header["fans"]))]
        if not all(_PLAIN_OPENID.fullmatch(openid) for openid in self.openids):
            raise BulkRefused("an openid of the file has characters WeChat's openids do not have")
        self.shapes: dict[int, _Shape] = {}
        self.states: dict[int, FanState] = {}
        self.periods: dict[int, list[PendingPeriod]] = {}

    # -- the whole run ---------------------------------------------------------------------------------

    def run(self) -> BulkStats:
        phases = self.stats.phases
        with _timed(phases, "existing"):
            self.existing = self._existing_fans()
            self.direct = self.sql.postgres and not self._account_has_events()
        with _timed(phases, "order"):
            self.order = self._fan_major()
        firsts = range(0, len(self.order), self.batch)
        with _timed(phases, "events"), Prefetch(self._build, firsts) as built:
            for batch in built:
                self._store_batch(batch)
                if self.progress is not None:
                    self.progress(self.stats)
        with _timed(phases, "fans"):
            self._store_fans()
        return self.stats

    def _existing_fans(self) -> bytearray:
        cursor = self.sql.cursor()
        try:
            rows = self.sql.execute(
                cursor, "SELECT openid FROM fans_fan WHERE account_id = %s", [self.account.id]
            ).fetchall()
        finally:
            cursor.close()
        known = {row[0] for row in rows}
        return bytearray(openid in known for openid in self.openids)

    def _account_has_events(self) -> bool:
        cursor = self.sql.cursor()
        try:
            statement = "SELECT 1 FROM events_event WHERE account_id = %s LIMIT 1"
            return self.sql.execute(cursor, statement, [self.account.id]).fetchone() is not None
        finally:
            cursor.close()

    def _fan_major(self) -> array[int]:
        """The records of [start, end) fan by fan (in openid order), each fan's in file order: a counting
        sort, two passes over the fan column.

        Stored in this order, a fan's events are neighbours in the event table's fan-timeline index and
        (by their "evt:<openid>:<time>" keys) in its unique index, so each batch appends to a few index
        pages instead of touching a random page of each index per event: at 1,000,000 fans those indexes
        are gigabytes and random inserts dominate the load. Only a fan's own order matters to what is
        stored (its state, its duplicates); event ids follow this order, and every read model orders a
        fan's events by (WeChat time, id), never by id across fans."""
        fans, n = self.history.fan, len(self.openids)
        counts = [0] * n
        for f in fans[self.start : self.end]:
            counts[f] += 1
        position, at = [0] * n, 0
        for f in sorted(range(n), key=self.openids.__getitem__):
            position[f] = at
            at += counts[f]
        order = array("i" if self.end < 2**31 else "q", bytes(at * (4 if self.end < 2**31 else 8)))
        for i in range(self.start, self.end):
            f = fans[i]
            order[position[f]] = i
            position[f] += 1
        return order

    # -- one batch of records --------------------------------------------------------------------------

    # Runs on the prefetch thread: reads the file and the import's own state, never the database.
    # One inlined loop: at a few microseconds a record, a function call per record would cost more than
    # the work it does.
    def _build(self, first: int) -> _Batch:  # noqa: PLR0915
        order = self.order
        end = min(len(order), first + self.batch)
        h, postgres = self.history, self.sql.postgres
        times, fans, kinds, details = h.time, h.fan, h.kind, h.detail
        openids, existing, shapes, states, periods = (
            self.openids,
            self.existing,
            self.shapes,
            self.states,
            self.periods,
        )
        msg_base = self.msg_base
        rows: list[str] = []
        old_fans: list[int] = []
        duplicates = 0
        before = order[first - 1] if first else -1
        previous = (-1, -1, -1) if before < 0 else (times[before], fans[before], kinds[before])
        last_t, at, tstr, wt = -1, datetime.now(UTC), "", ""
        for i in order[first:end]:
            t, f, k = times[i], fans[i], kinds[i]
            here = (t, f, k)
            if here < previous and f == previous[1]:
                raise BulkRefused(f"record {i} is out of the file's (time, fan, kind) order")
            repeated = here == previous and k in _EVENT_KINDS
            previous = here
            if existing[f]:
                old_fans.append(i)
                continue
            if repeated:
                # Same fan, second and event: the same dedupe key, a duplicate for the per-event path too.
                duplicates += 1
                continue
            code = (k << 16) | (details[i] & 0xFFFF)
            shape = shapes.get(code)
            if shape is None:
                shape = shapes[code] = _shape(h, i)
            if t != last_t:
                last_t, tstr = t, str(t)
                at = datetime.fromtimestamp(t, tz=UTC)
                wt = sql_time(t) + ("+00" if postgres else "")
            openid = openids[f]
            parts = shape.copy_parts if postgres else shape.json_parts
            if shape.is_message:
                msg_id = str(msg_base + i)
                key = "msg:" + msg_id
                payload = parts[0] + openid + parts[1] + tstr + parts[2] + msg_id + parts[3]
            else:
                key = "evt:" + openid + ":" + tstr + (shape.key_suffix if postgres else shape.json_key_suffix)
                payload = parts[0] + openid + parts[1] + tstr + parts[2]
            if postgres:
                rows.append(f"{openid}\t{shape.kind}\t{key}\t{wt}\t{payload}\n")
            else:
                rows.append(f'["{openid}","{shape.json_kind}","{key}","{wt}","{payload}"]')
            state = states.get(f)
            if state is None:
                state = states[f] = FanState()
            changes = apply_event(state, shape.kind, at, shape.qr_scene)
            if changes:
                fold_period_changes(periods.setdefault(f, []), changes, _PERIOD_SOURCE)
        return _Batch(records=end - first, rows=rows, old_fans=old_fans, duplicates=duplicates)

    # -- storing a batch, on the caller's thread and connection ----------------------------------------

    def _store_batch(self, batch: _Batch) -> None:
        stored = self._store_events(batch.rows, datetime.now(UTC))
        self.stats.events += batch.records
        self.stats.stored += stored
        self.stats.duplicates += batch.duplicates + len(batch.rows) - stored
        if batch.old_fans:
            self._per_event(batch.old_fans)

    def _store_events(self, rows: list[str], received: datetime) -> int:
        if not rows:
            return 0
        sql = self.sql
        if not sql.postgres:
            rows_json = "[" + ",".join(rows) + "]"
            with serialized_writes(), transaction.atomic():
                cursor = sql.cursor()
                try:
                    cursor.execute(_SQLITE_INSERT, (self.account.id, sql.dt(received), _SOURCE, rows_json))
                    return int(cursor.rowcount)
                finally:
                    cursor.close()
        prefix = f"{self.account.id}\t{received.isoformat()}\t{_SOURCE}\t\t\\N\tf\t"
        if self.direct:
            try:
                with transaction.atomic():
                    self._copy("events_event", prefix, rows)
                return len(rows)
            except (IntegrityError, _driver_integrity_error()):
                self.direct = False  # something stored a key of the file meanwhile: go through staging
        with transaction.atomic():
            cursor = sql.cursor()
            try:
                cursor.execute(_STAGING)
                self._copy("liucun_history_staging", prefix, rows)
                cursor.execute(_FROM_STAGING)
                return int(cursor.rowcount)
            finally:
                cursor.close()

    def _copy(self, table: str, prefix: str, rows: list[str]) -> None:
        cursor = self.sql.cursor()
        try:
            with cursor.copy(f"COPY {table} ({_COLUMNS}) FROM STDIN") as copy:
                for lo in range(0, len(rows), 20_000):
                    copy.write(prefix + prefix.join(rows[lo : lo + 20_000]))
        finally:
            cursor.close()

    def _per_event(self, indexes: list[int]) -> None:
        """Events of fans that existed before: those not stored yet through the per-event path."""
        h = self.history
        messages = [message_from_fields(h.fields(i)) for i in indexes]
        stored = self._stored_keys([m.dedupe_key for m in messages])
        fresh = [m for m in messages if m.dedupe_key not in stored]
        self.stats.duplicates += len(messages) - len(fresh)
        now = datetime.now(UTC)
        for lo in range(0, len(fresh), 2000):
            deliveries = [Delivery(self.account, m, now, _SOURCE) for m in fresh[lo : lo + 2000]]
            for outcome in store_deliveries(deliveries):
                self.stats.per_event += 1
                if isinstance(outcome, Outcome):
                    self.stats.duplicates += outcome.duplicate
                    self.stats.stored += not outcome.duplicate
                else:
                    self.stats.failed += 1

    def _stored_keys(self, keys: list[str]) -> set[str]:
        sql, found = self.sql, set[str]()
        cursor = sql.cursor()
        try:
            for lo in range(0, len(keys), _LOOKUP):
                chunk = keys[lo : lo + _LOOKUP]
                statement = (
                    "SELECT dedupe_key FROM events_event WHERE account_id = %s "  # noqa: S608 - placeholders
                    f"AND dedupe_key IN ({', '.join(['%s'] * len(chunk))})"
                )
                found.update(row[0] for row in sql.execute(cursor, statement, [self.account.id, *chunk]))
        finally:
            cursor.close()
        return found

    # -- the fans, at the end --------------------------------------------------------------------------

    def _store_fans(self) -> None:
        sql, openids = self.sql, self.openids
        now = datetime.now(UTC)
        with serialized_writes(), transaction.atomic():
            late: set[int] = set()
            if not sql.postgres:
                # The write lock is held: whoever created one of these fans meanwhile has committed.
                made_meanwhile = self._existing_fans()
                late = {f for f in self.states if made_meanwhile[f]}
            pending = [
                (openids[f], state, self.periods.get(f, []))
                for f, state in self.states.items()
                if f not in late
            ]
            cursor = sql.cursor()
            try:
                created = insert_new_fans(sql, cursor, account_id=self.account.id, fans=pending, now=now)
            finally:
                cursor.close()
            if sql.postgres:
                # ON CONFLICT skipped the fans a callback created meanwhile.
                late = {f for f in self.states if openids[f] not in created}
            self.stats.fans_created = len(created)
            self.stats.fans_late = len(late)
            if late:
                self._apply_late(late, now)

    def _apply_late(self, late: set[int], now: datetime) -> None:
        """Apply the file's events of fans created meanwhile one by one, in file order (their events are
        stored already)."""
        h, sql = self.history, self.sql
        cursor = sql.cursor()
        try:
            previous = (-1, -1, -1)
            for i in range(self.start, self.end):
                here = (h.time[i], h.fan[i], h.kind[i])
                repeated, previous = here == previous and here[2] in _EVENT_KINDS, here
                if h.fan[i] not in late or repeated:
                    continue
                message = message_from_fields(h.fields(i))
                record_fan_event(
                    cursor,
                    sql,
                    account_id=self.account.id,
                    openid=message.from_user,
                    kind=message.kind,
                    at=datetime.fromtimestamp(message.create_time, tz=UTC),
                    now=now,
                    qr_scene=message.qr_scene if isinstance(message, SubscribeEvent) else None,
                    source=_PERIOD_SOURCE,
                )
        finally:
            cursor.close()


@contextmanager
def _timed(phases: dict[str, float], name: str) -> Iterator[None]:
    began = time.perf_counter()
    try:
        yield
    finally:
        phases[name] = phases.get(name, 0.0) + time.perf_counter() - began


def bulk_import(
    history: HistoryFile,
    account: CallbackAccount,
    *,
    batch: int | None = None,
    start: int = 0,
    limit: int | None = None,
    progress: Callable[[BulkStats], None] | None = None,
) -> BulkStats:
    return BulkImport(history, account, batch=batch, start=start, limit=limit, progress=progress).run()
