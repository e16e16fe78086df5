"""The menu-clicks read model's lookups go through the index made for them, at any size of the tables."""

from __future__ import annotations

import pytest
from django.db import connection

from liucun.menus.models import MenuClickFan
from liucun.testing.factories import make_account

pytestmark = pytest.mark.django_db


def test_a_fans_taps_are_read_back_through_the_fan_index() -> None:
    # Every batch of taps reads back its fans' earlier taps (clicks._stored_taps). Through the unique
    # (account, day, button, openid) index SQLite walked all of the account's rows for each 500 fans:
    # 0.62 s a query at 200,000 fans, the menu-clicks consumer down to ~500 events/s.
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL's plan follows table statistics")
    account = make_account()
    query = MenuClickFan.objects.filter(account_id=account.pk, openid__in=["o1", "o2", "o3"]).values_list(
        "openid", "day", "button"
    )
    sql, params = query.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        plan = " ".join(str(row[-1]) for row in cursor.fetchall())
    assert "menuclickfan_fan" in plan, plan
