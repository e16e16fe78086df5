"""The fan's sending part reads a fixed number of queries, however long the fan's log is (no N+1)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from liucun.console.tests.conftest import add_fans, logged_in, make_user, member
from liucun.events.models import Event
from liucun.outbound.models import OutboundMessage, Source, Status
from liucun.staff.models import Role
from liucun.testing.factories import make_account

pytestmark = pytest.mark.django_db

# session, user, account, role, fan, the window's count, the log (with its senders), passive replies
QUERIES = 8


def _measure(rows: int) -> int:
    account = make_account()
    (fan,) = add_fans(account, 1)
    now = datetime.now(UTC)
    for n in range(rows):
        staff = make_user(f"agent{rows}-{n}")  # each row its own sender: a query per sender would show
        OutboundMessage.objects.create(
            account=account, openid=fan.openid, fan=fan, kind="text", source=Source.AGENT, staff=staff,
            content={"msgtype": "text", "text": {"content": f"回复 {n}"}}, idempotency_key=f"k{n}",
            status=Status.UNKNOWN if n % 2 else Status.SENT, attempted_at=now,
        )  # fmt: skip
        Event.objects.create(
            account=account, openid=fan.openid, kind="text", dedupe_key=f"msg:{rows}{n}",
            wechat_time=now - timedelta(minutes=n), received_at=now - timedelta(minutes=n),
            payload={"Content": "?"}, reply="<xml><MsgType>text</MsgType><Content>好</Content></xml>",
        )  # fmt: skip
    client = logged_in(member(make_user(f"viewer{rows}"), account, Role.AGENT))
    client.get(reverse("console:home"))  # the session and language settled before measuring
    url = reverse("console:fan-outbound", args=(account.appid, fan.openid))
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    assert response.content.decode().count('data-status="') == 2 * rows
    return len(queries)


def test_the_sending_part_does_not_grow_with_the_log() -> None:
    assert (_measure(2), _measure(12)) == (QUERIES, QUERIES)
