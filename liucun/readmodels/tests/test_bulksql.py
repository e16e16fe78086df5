"""Pieces of set-based rebuilds that stand alone."""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from liucun.readmodels.bulksql import indexes_deferred


def _indexes(table: str) -> list[tuple[str, str]]:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s", [table])
        else:
            cursor.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = %s", [table]
            )
        return sorted(cursor.fetchall(), key=lambda row: row[0])


@pytest.mark.django_db
def test_plain_indexes_are_gone_during_a_copy_and_back_as_they_were_after() -> None:
    table = "menus_menuclickfan"
    before = _indexes(table)
    plain = [name for name, sql in before if sql and not sql.upper().startswith("CREATE UNIQUE")]
    assert "menuclickfan_fan" in plain

    with transaction.atomic(), indexes_deferred(table):
        during = [name for name, _sql in _indexes(table)]
        assert not set(plain) & set(during)
        assert set(during) < {name for name, _sql in before}  # the unique ones stay

    assert _indexes(table) == before
