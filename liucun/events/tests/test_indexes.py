"""The event store's indexes serve the lookups pages make on every view, at any size of the store."""

from __future__ import annotations

import pytest
from django.db import connection

from liucun.events.models import Event
from liucun.testing.factories import make_account

pytestmark = pytest.mark.django_db


def test_an_accounts_newest_event_is_found_through_an_index_not_a_sort() -> None:
    # The console overview asks for it on every view; at 48 million events a scan and sort of the
    # account's rows took minutes (an index on the account alone is (account, rowid) on SQLite).
    account = make_account()
    query = Event.objects.filter(account=account).order_by("-id").values("wechat_time", "received_at")[:1]
    sql, params = query.query.sql_with_params()
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL walks the primary key backwards; its plan follows table statistics")
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        plan = " ".join(str(row[-1]) for row in cursor.fetchall())
    assert "TEMP B-TREE" not in plan, plan
    assert "USING INDEX" in plan or "USING COVERING INDEX" in plan, plan
