"""The inbox over the REST API: lists, assign/transfer/resolve, notes, canned replies, settings, metrics;
roles checked before bodies, and refusals change nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import Client

from liucun.console.tests.conftest import make_user, member
from liucun.inbox.models import CannedReply, Conversation, InboxSettings, Note
from liucun.inbox.tests.fixtures import fan_message, fold
from liucun.staff.api_tokens import create_api_token
from liucun.staff.models import Role
from liucun.testing.factories import make_account

pytestmark = pytest.mark.django_db


class Caller:
    def __init__(self, user: Any, max_role: Role = Role.ADMIN) -> None:
        _, key = create_api_token(user, "t", max_role=max_role)
        self.client, self.auth = Client(), f"Bearer {key}"

    def __call__(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        kwargs: dict[str, Any] = {"HTTP_AUTHORIZATION": self.auth}
        if body is not None:
            kwargs.update(data=body, content_type="application/json")
        answer = getattr(self.client, method)(f"/api{path}", **kwargs)
        return answer.status_code, (answer.json() if answer.content else None)


@pytest.fixture
def setup() -> dict[str, Any]:
    account = make_account()
    li = member(make_user("li"), account, Role.AGENT)
    wang = member(make_user("wang"), account, Role.AGENT)
    boss = member(make_user("boss"), account, Role.ADMIN)
    now = datetime.now(UTC)
    fan_message(account, "oOld", now - timedelta(hours=3))
    fan_message(account, "oNew", now - timedelta(minutes=3))
    fold()
    base = f"/accounts/{account.appid}"
    return {"account": account, "li": Caller(li), "wang": Caller(wang), "boss": Caller(boss), "base": base}


def test_conversations_assign_transfer_notes_resolve(setup: dict[str, Any]) -> None:
    li, wang, base = setup["li"], setup["wang"], setup["base"]
    status, page = li("get", f"{base}/conversations?view=unassigned")
    assert status == 200 and [c["openid"] for c in page["results"]] == ["oOld", "oNew"]
    assert page["results"][0]["unread"] == 1 and page["has_next"] is False
    assert li("post", f"{base}/conversations/oOld/assign", {"username": "wang"})[0] == 403
    status, one = li("post", f"{base}/conversations/oOld/assign", {"username": "li"})
    assert (status, one["assigned_to"]) == (200, "li")
    assert li("get", f"{base}/conversations?view=mine")[1]["results"][0]["openid"] == "oOld"
    status, moved = li("post", f"{base}/conversations/oOld/transfer", {"username": "wang", "note": "VIP"})
    assert (status, moved["assigned_to"]) == (200, "wang")
    assert li("post", f"{base}/conversations/oNew/transfer", {"username": "wang"})[0] == 409
    assert li("post", f"{base}/conversations/oOld/transfer", {"username": "nobody"})[0] == 400
    status, note = wang("post", f"{base}/conversations/oOld/notes", {"text": "已致电"})
    assert (status, note["author"], note["text"]) == (201, "wang", "已致电")
    assert [n["text"] for n in wang("get", f"{base}/conversations/oOld/notes")[1]] == ["VIP", "已致电"]
    status, done = wang("post", f"{base}/conversations/oOld/resolve")
    assert (status, done["state"]) == (200, "resolved")
    assert li("get", f"{base}/conversations/oMissing")[0] == 404
    # No fan row, so no window: refused with the reason, nothing queued.
    status, refused = li("post", f"{base}/conversations/oNew/replies", {"text": "您好", "key": "k1"})
    assert (status, refused["code"]) == (409, "window_closed")
    assert "never heard from this fan" in refused["detail"]
    from liucun.outbound.models import OutboundMessage

    assert OutboundMessage.objects.count() == 0


def test_canned_replies_need_an_operator_and_are_checked(setup: dict[str, Any]) -> None:
    li, boss, base = setup["li"], setup["boss"], setup["base"]
    body = {"shortcut": "hours", "title": "营业时间", "text": "我们每天 9:00–21:00 在线。"}
    assert li("post", f"{base}/canned-replies", body)[0] == 403
    status, made = boss("post", f"{base}/canned-replies", body)
    assert status == 201 and made["shortcut"] == "hours"
    status, refused = boss("post", f"{base}/canned-replies", body)
    assert status == 400 and "/hours" in refused["detail"]
    status, changed = boss(
        "put", f"{base}/canned-replies/{made['id']}", {**body, "text": "每天 10 点到 22 点"}
    )
    assert (status, changed["text"]) == (200, "每天 10 点到 22 点")
    assert [c["shortcut"] for c in li("get", f"{base}/canned-replies")[1]] == ["hours"]
    assert boss("delete", f"{base}/canned-replies/{made['id']}")[0] == 204
    assert boss("delete", f"{base}/canned-replies/{made['id']}")[0] == 404
    assert CannedReply.objects.count() == 0


def test_settings_and_metrics(setup: dict[str, Any]) -> None:
    li, boss, base = setup["li"], setup["boss"], setup["base"]
    assert li("get", f"{base}/inbox/settings")[1] == {
        "first_response_minutes": 120, "promise_hours": 48, "max_open_per_agent": 10, "auto_assign": True
    }  # fmt: skip
    chosen = {
        "first_response_minutes": 30,
        "promise_hours": 24,
        "max_open_per_agent": 5,
        "auto_assign": False,
    }
    assert li("put", f"{base}/inbox/settings", chosen)[0] == 403
    assert boss("put", f"{base}/inbox/settings", {**chosen, "promise_hours": 0})[0] == 422
    assert not InboxSettings.objects.exists()
    assert boss("put", f"{base}/inbox/settings", chosen) == (200, chosen)
    assert li("get", f"{base}/inbox/metrics")[0] == 403
    status, found = boss("get", f"{base}/inbox/metrics?days=30")
    assert status == 200 and found["account"]["answered"] == 0 and found["promise_seconds"] == 24 * 3600


def test_availability_round_robin_through_the_api(setup: dict[str, Any]) -> None:
    li, base, account = setup["li"], setup["base"], setup["account"]
    assert li("put", f"{base}/inbox/availability", {"available": True}) == (200, {"available": True})
    assert set(
        Conversation.objects.filter(account=account).values_list("assigned_to__username", flat=True)
    ) == {"li"}
    assert Note.objects.count() == 0


def test_an_outsider_sees_no_inbox() -> None:
    account, other = make_account(), make_account()
    outsider = Caller(member(make_user("x"), other, Role.ADMIN))
    assert outsider("get", f"/accounts/{account.appid}/conversations")[0] == 404
    assert outsider("post", f"/accounts/{account.appid}/canned-replies", {"shortcut": "a"})[0] == 404
