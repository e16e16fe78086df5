"""Reading many small rows for a report without the ORM's per-value converters.

A year of a report's rows is thousands of values, and the ORM's converters cost more than the query. The
ORM still writes the SQL; values come back as the driver gives them (`day_key` names a date the same
way on both databases).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import connection
from django.db.models import QuerySet


def plain_rows(rows: QuerySet[Any], *fields: str) -> list[tuple[Any, ...]]:
    statement, params = rows.values_list(*fields).query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall()


def day_key(value: date | str) -> str:
    """A stored date as YYYY-MM-DD, whichever driver read it."""
    return value if isinstance(value, str) else value.isoformat()
