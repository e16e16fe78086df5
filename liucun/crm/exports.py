"""Fan lists as CSV: any filter and ordering, streamed, readable by Excel, importable back unchanged.

UTF-8 with a BOM (without it Excel on a Chinese Windows reads the file as GBK and garbles it); rows are
read with a database cursor in chunks and written as they come, so a million fans never sit in memory.
Cells that a spreadsheet would run as formulas get a leading quote, which an import removes again.
Times are the deployment's local time as "YYYY-MM-DD HH:MM:SS", which Excel reads as a date and time
(an ISO "T" or an offset makes it text). Column names are the fixed English ones (what an import maps)
or, on request, Chinese; "following" is 是/否 in Chinese and yes/no otherwise.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import islice
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

# What a row needs of a fan (the model's other columns are not read).
FAN_FIELDS = (
    "openid",
    "unionid",
    "is_following",
    "channel",
    "followed_at",
    "unfollowed_at",
    "last_interaction_at",
    "remark",
    "attributes",
)
FETCH_CHUNK = 2000  # rows per database round trip
FLUSH_ROWS = 500  # rows per chunk handed to the web server (and per query for their tags)
BOM = "\ufeff"
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
# What the MP backend's own exports call these columns.
CHINESE_HEADERS = {
    "openid": "OpenID",
    "unionid": "UnionID",
    "following": "是否关注",
    "channel": "渠道",
    "followed_at": "关注时间",
    "unfollowed_at": "取关时间",
    "stayed_days": "关注天数",
    "last_interaction_at": "最近互动时间",
    "remark": "备注",
    "tags": "标签",
}


@dataclass(frozen=True)
class CsvStyle:
    """How the file is written for its reader: Chinese column names, and the words for following."""

    chinese_headers: bool = False
    chinese_values: bool = False

    @classmethod
    def for_language(cls, language: str | None, *, chinese_headers: bool = False) -> CsvStyle:
        chinese = chinese_headers or (language or "").lower().startswith("zh")
        return cls(chinese_headers=chinese_headers, chinese_values=chinese)

    def following(self, value: bool) -> str:
        if self.chinese_values:
            return "是" if value else "否"
        return "yes" if value else "no"

    def tags(self, names: list[str]) -> str:
        return ("、" if self.chinese_values else ", ").join(names)

    def header(self, column: str) -> str:
        return CHINESE_HEADERS[column] if self.chinese_headers else column


def fan_csv_rows(
    actor: AbstractBaseUser | str,
    account: OfficialAccount,
    filt: queries.FanFilter,
    ordering: str = "-followed_at",
    style: CsvStyle | None = None,
) -> Iterator[str]:
    """The CSV as text chunks, for a StreamingHttpResponse (charset utf-8). Audited when called.

    ValueError for an unknown ordering, raised here rather than halfway through a download.
    """
    style = style or CsvStyle()
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
            "chinese_headers": style.chinese_headers,
        },
    )
    return _stream(qs, keys, _tag_names(account), style)


def _tag_names(account: OfficialAccount) -> dict[int, str]:
    from liucun.tags.models import Tag  # the tags app builds on fans and crm, not the other way round

    return dict(Tag.objects.filter(account=account).values_list("pk", "name"))


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


def _stream(qs: QuerySet[Fan], keys: list[str], tags: dict[int, str], style: CsvStyle) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)  # "\r\n" line ends and minimal quoting, as Excel writes them

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow([*(style.header(c) for c in FIXED_COLUMNS), *keys])
    yield BOM + flush()
    now = datetime.now(UTC)
    rows = qs.only(*FAN_FIELDS).iterator(chunk_size=FETCH_CHUNK)
    while batch := list(islice(rows, FLUSH_ROWS)):
        # The batch's tags in one query: FLUSH_ROWS fans per query, not one per fan.
        names = queries.tag_names([fan.pk for fan in batch], tags)
        for fan in batch:
            attributes = fan.attributes if isinstance(fan.attributes, dict) else {}
            cells = [
                _cell(fan.openid),
                _cell(fan.unionid),
                style.following(fan.is_following),
                _cell(fan.channel),
                _cell(fan.followed_at),
                "" if fan.is_following else _cell(fan.unfollowed_at),
                queries.stayed_days(fan, now),
                _cell(fan.last_interaction_at),
                _cell(fan.remark),
                _cell(style.tags(names.get(fan.pk, []))),
            ]
            writer.writerow(cells + [_cell(attributes.get(k)) for k in keys])
        yield flush()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, datetime):
        # The deployment's time zone (China time by default), as Excel reads a date and time.
        return timezone.localtime(value).strftime(TIME_FORMAT)
    return escape_cell(str(value))
