"""The demo's weekly pushes are annotated once, at the times wxsim's demo scenario sends them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest

from liucun.pushimpact.demo import TITLE, seed_demo
from liucun.pushimpact.models import Push
from liucun.testing.factories import make_account

pytestmark = pytest.mark.django_db


def test_the_demo_annotates_each_weekly_push_once() -> None:
    account = make_account()
    start = datetime(2026, 9, 2, 16, 0, tzinfo=UTC)  # 00:00 China time
    now = start + timedelta(days=30)
    assert seed_demo(account, int(start.timestamp()), now) == 4
    assert seed_demo(account, int(start.timestamp()), now) == 0
    times = list(
        Push.objects.filter(account=account, title=TITLE).order_by("at").values_list("at", flat=True)
    )
    assert times[0] == start + timedelta(days=3, hours=20)  # the scenario's Sunday 20:00 China time
    assert [b - a for a, b in pairwise(times)] == [timedelta(days=7)] * 3
