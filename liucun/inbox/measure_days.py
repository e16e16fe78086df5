"""The per-day digest of the inbox's measures (MeasureDay): each day's service and wall seconds, sorted.

Why it exists: the customer-service report ranks a year of first responses (a busy inbox answers 1,000
questions a day) into nearest-rank percentiles per day, week or month. Sorting 365,000 measures on every
view took both databases most of a second or more (bench/service); reading 365 sorted arrays and merging
them takes milliseconds. A day is the site's China day (LIUCUN_TIME_ZONE) of the instant a measure
counts on: when the fan asked for a first response, when it happened for a resolution.

Every Measure saved is added here in its own transaction (Measure.save, under the day's row lock), so the
digest equals the measures at every commit. A digest made in another time zone than the site's is never
read as it is (days_between says so) and is rebuilt by the first measure written after the change.
"""

from __future__ import annotations

import sys
from array import array
from bisect import insort
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, connection, transaction

from liucun.inbox.models import Measure, MeasureDay
from liucun.rawsql import Sql

if TYPE_CHECKING:
    MeasureRow = tuple[str, datetime, datetime, float, float]


def counted_at(kind: str, started_at: datetime, ended_at: datetime) -> datetime:
    """The instant a measure counts on: the question for a first response, the resolution itself."""
    return started_at if kind == Measure.Kind.FIRST_RESPONSE else ended_at


def pack(values: Iterable[float]) -> bytes:
    """Float64, little-endian: the same bytes whatever machine wrote them."""
    packed = array("d", values)
    if sys.byteorder == "big":
        packed.byteswap()
    return packed.tobytes()


def unpack(blob: bytes | memoryview) -> array[float]:
    values = array("d")
    values.frombytes(bytes(blob))
    if sys.byteorder == "big":
        values.byteswap()
    return values


def digests(rows: Iterable[MeasureRow], zone: ZoneInfo) -> Iterator[tuple[str, date, int, bytes, bytes]]:
    """(kind, day, count, service, wall) for measures given as (kind, started_at, ended_at, service
    seconds, wall seconds): what rebuild writes, and the migration that filled the table."""
    days: dict[tuple[str, date], tuple[list[float], list[float]]] = {}
    for kind, started_at, ended_at, service_seconds, wall_seconds in rows:
        day = counted_at(kind, started_at, ended_at).astimezone(zone).date()
        service, wall = days.setdefault((kind, day), ([], []))
        service.append(service_seconds)
        wall.append(wall_seconds)
    for (kind, day), (service, wall) in sorted(days.items()):
        yield kind, day, len(service), pack(sorted(service)), pack(sorted(wall))


def rebuild(account_id: int) -> int:
    """Replace the account's digest by one made from its measures (after bulk inserts, or a changed
    time zone); returns the number of measures read."""
    zone = settings.TIME_ZONE
    rows = Measure.objects.filter(account_id=account_id).values_list(
        "kind", "started_at", "ended_at", "service_seconds", "wall_seconds"
    )
    read = 0

    def counted(source: Iterable[MeasureRow]) -> Iterator[MeasureRow]:
        nonlocal read
        for row in source:
            read += 1
            yield row

    with transaction.atomic():
        made = [
            MeasureDay(
                account_id=account_id, kind=kind, day=day, zone=zone, count=n, service=service, wall=wall
            )
            for kind, day, n, service, wall in digests(
                counted(rows.iterator(chunk_size=20_000)), ZoneInfo(zone)
            )
        ]
        MeasureDay.objects.filter(account_id=account_id).delete()
        MeasureDay.objects.bulk_create(made, batch_size=500)
    return read


def add(measure: Measure) -> None:
    """Add a newly saved measure to its day (inside the transaction that saved it)."""
    zone = settings.TIME_ZONE
    day = counted_at(measure.kind, measure.started_at, measure.ended_at).astimezone(ZoneInfo(zone)).date()
    row, created = _locked_day(measure.account_id, measure.kind, day, zone)
    if row.zone != zone or (
        created and MeasureDay.objects.filter(account_id=measure.account_id).exclude(zone=zone).exists()
    ):
        # The site's time zone changed since these days were cut: every day moves. The rebuild reads
        # this measure too.
        rebuild(measure.account_id)
        return
    service, wall = unpack(row.service), unpack(row.wall)
    insort(service, float(measure.service_seconds))
    insort(wall, float(measure.wall_seconds))
    row.count, row.service, row.wall = len(service), pack(service), pack(wall)
    row.save(update_fields=["count", "service", "wall"])


def _locked_day(account_id: int, kind: str, day: date, zone: str) -> tuple[MeasureDay, bool]:
    rows = MeasureDay.objects.select_for_update()
    row = rows.filter(account_id=account_id, kind=kind, day=day).first()
    if row is not None:
        return row, False
    try:
        with transaction.atomic():
            return MeasureDay.objects.create(account_id=account_id, kind=kind, day=day, zone=zone), True
    except IntegrityError:  # PostgreSQL: another transaction made the day meanwhile, now committed
        return rows.get(account_id=account_id, kind=kind, day=day), False


def days_between(
    account_id: int, kind: str, first: date, last: date, arrays: tuple[str, ...]
) -> list[tuple[Any, ...]] | None:
    """(day, *arrays) of the days from first to last that have measures, in day order, each of `arrays`
    ("service", "wall") as pack's bytes; None when a day was cut in another time zone than the site's
    (then only the measures themselves answer, until the next measure rebuilds the digest)."""
    if not arrays or set(arrays) - {"service", "wall"}:
        raise ValueError(f"not arrays of a MeasureDay: {arrays}")
    sql = Sql(connection)
    # Only the fixed column names checked above are spliced in.
    statement = (
        f"SELECT day, zone, {', '.join(arrays)} FROM inbox_measureday "  # noqa: S608
        "WHERE account_id = %s AND kind = %s AND day >= %s AND day <= %s ORDER BY day"
    )
    params = [account_id, kind, first, last] if sql.postgres else [account_id, kind, str(first), str(last)]
    if sql.postgres:
        import psycopg

        # Binary results: a bytea as text is hex, twice the bytes and a decode per row (a year of a
        # busy inbox took 60-120 ms that way, 15-30 ms binary). Django's client-side cursors cannot.
        with psycopg.Cursor(connection.connection) as cursor:
            cursor.execute(statement, params, binary=True)
            found = cursor.fetchall()
    else:
        cursor = sql.execute(sql.cursor(), statement, params)
        # Django's connection converts declared date columns; a plain one would give the text.
        found = [(_date(day), *rest) for day, *rest in cursor.fetchall()]
        cursor.close()
    zone = settings.TIME_ZONE
    if any(row[1] != zone for row in found):
        return None
    return [(row[0], *row[2:]) for row in found]


def _date(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)
