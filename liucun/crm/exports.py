"""Fan lists as CSV: any filter and ordering, streamed, readable by Excel, importable back unchanged.

UTF-8 with a BOM (without it Excel on a Chinese Windows reads the file as GBK and garbles it); rows are
read with a database cursor in chunks and written as they come, so a million fans never sit in memory.
Cells that a spreadsheet would run as formulas get a leading quote, which an import removes again.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

from liucun.accounts.models import OfficialAccount
from liucun.crm.rules import FIXED_COLUMNS, escape_cell
from liucun.fans import queries
from liucun.fans.models import Fan
from liucun.staff.audit import record

FETCH_CHUNK = 2000  # rows per database round trip
FLUSH_ROWS = 500  # rows per chunk handed to the web server
BOM = "\ufeff"


def fan_csv_rows(
    actor: AbstractBaseUser | str,
    account: OfficialAccount,
    filt: queries.FanFilter,
    ordering: str = "-followed_at",
) -> Iterator[str]:
    """The CSV as text chunks, for a StreamingHttpResponse (charset utf-8). Audited when called.

    ValueError for an unknown ordering, raised here rather than halfway through a download.
    """
    qs = queries.fans(account, filt, ordering)
    keys = attribute_keys(qs)
    rows = qs.count()
    record(
        actor,
        "crm.export",
        account=account,
        target="fans.csv",
        changes={
            "rows": rows,
            "filter": filt.to_json(),
            "ordering": ordering,
            "attribute_columns": len(keys),
        },
    )
    return _stream(qs, keys)


def attribute_keys(qs: QuerySet[Fan]) -> list[str]:
    """Every attribute name held by the fans in `qs`, sorted: one CSV column each."""
    inner, params = qs.order_by().values("attributes").query.sql_with_params()
    # Asked of the database, which walks the JSON without sending a million documents over the wire.
    # `inner` is SQL that Django compiled, with its parameters kept apart.
    if connection.vendor == "postgresql":
        sql = f"SELECT DISTINCT jsonb_object_keys(sub.attributes) FROM ({inner}) sub"  # noqa: S608
    elif connection.vendor == "sqlite":
        sql = f"SELECT DISTINCT j.key FROM ({inner}) sub, json_each(sub.attributes) j"  # noqa: S608
    else:
        found: set[str] = set()
        for attributes in qs.order_by().values_list("attributes", flat=True).iterator(FETCH_CHUNK):
            found.update(attributes or {})
        return sorted(found)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return sorted(str(key) for (key,) in cursor.fetchall())


def _stream(qs: QuerySet[Fan], keys: list[str]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)  # "\r\n" line ends and minimal quoting, as Excel writes them

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow([*FIXED_COLUMNS, *keys])
    yield BOM + flush()
    fields = ("openid", "unionid", "is_following", "channel", "followed_at", "last_interaction_at", "remark")
    pending = 0
    for values in qs.values_list(*fields, "attributes").iterator(chunk_size=FETCH_CHUNK):
        *fixed, attributes = values
        attributes = attributes if isinstance(attributes, dict) else {}
        cells = [_cell(v) for v in fixed] + [_cell(attributes.get(k)) for k in keys]
        writer.writerow(cells)
        pending += 1
        if pending == FLUSH_ROWS:
            yield flush()
            pending = 0
    if pending:
        yield flush()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, datetime):
        # The deployment's time zone with its offset: readable, and unambiguous once the file travels.
        return timezone.localtime(value).isoformat(sep=" ", timespec="seconds")
    return escape_cell(str(value))
