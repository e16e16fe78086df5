"""The inbox pages: roles, the lists and their counts, canned replies and settings through the console,
and a fixed number of queries per page whatever the number of conversations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from liucun.accounts.models import OfficialAccount
from liucun.console.tests.conftest import add_fans, logged_in, make_user, member
from liucun.console.tests.test_query_counts import measure
from liucun.inbox.models import CannedReply, Conversation, InboxSettings
from liucun.inbox.tests.fixtures import fan_message, fold, populate
from liucun.staff.models import Role
from liucun.testing.factories import make_account

pytestmark = pytest.mark.django_db

# Measured; the same for 6 and for 30 conversations.
PINNED = {
    "messages": 14,
    "inbox-rows": 13,
    "message-log": 5,
    "conversation": 18,
    "conversation-thread": 9,
    "canned-replies": 5,
    "inbox-settings": 5,
    "inbox-metrics": 7,
}
POST_ONLY = (
    "inbox-availability", "canned-save", "canned-delete", "conversation-open", "conversation-reply",
    "conversation-assign", "conversation-resolve", "conversation-note",
)  # fmt: skip


def url(name: str, account: OfficialAccount, openid: str) -> str:
    args = [account.appid, openid] if name.startswith("conversation") else [account.appid]
    return reverse(f"console:{name}", args=args)


def measured(fans: int) -> dict[str, tuple[int, int]]:
    account = make_account(name=f"客服{fans}")
    admin = member(make_user(f"admin{fans}"), account, Role.ADMIN)
    made = add_fans(account, fans, prefix=f"oI{fans}")
    populate(account, made)
    client = logged_in(admin)
    client.get(reverse("console:home"))
    found = {name: measure(client, url(name, account, made[0].openid)) for name in PINNED}
    found.update({name: measure(client, url(name, account, made[0].openid)) for name in POST_ONLY})
    return found


def test_inbox_pages_answer_in_a_pinned_number_of_queries() -> None:
    small, large = measured(6), measured(30)
    assert {n: s for n, (s, _) in small.items() if n in POST_ONLY} == dict.fromkeys(POST_ONLY, 405)
    pages = {n: q for n, (s, q) in small.items() if n in PINNED and s == 200}
    grows = {n: (q, large[n][1]) for n, q in pages.items() if large[n][1] != q}
    assert grows == {}, f"queries grow with the conversations: {grows}"
    assert pages == PINNED


def _setup() -> tuple[OfficialAccount, Client, Client, Client]:
    account = make_account()
    agent = member(make_user("agent"), account, Role.AGENT)
    operator = member(make_user("operator"), account, Role.OPERATOR)
    outsider = member(make_user("outsider"), make_account(), Role.ADMIN)
    return account, logged_in(agent), logged_in(operator), logged_in(outsider)


def test_agents_work_the_inbox_but_settings_and_metrics_need_more() -> None:
    account, agent, operator, outsider = _setup()
    appid = account.appid
    for name in ("messages", "inbox-rows", "canned-replies", "message-log"):
        assert agent.get(reverse(f"console:{name}", args=[appid])).status_code == 200
        assert outsider.get(reverse(f"console:{name}", args=[appid])).status_code == 404
    assert agent.get(reverse("console:inbox-metrics", args=[appid])).status_code == 403
    assert operator.get(reverse("console:inbox-metrics", args=[appid])).status_code == 200
    assert operator.get(reverse("console:inbox-settings", args=[appid])).status_code == 403
    saved = {"shortcut": "hours", "title": "营业时间", "text": "每天 9:00–21:00"}
    assert agent.post(reverse("console:canned-save", args=[appid]), saved).status_code == 403
    assert CannedReply.objects.count() == 0
    assert operator.post(reverse("console:canned-save", args=[appid]), saved).status_code == 302
    assert list(CannedReply.objects.values_list("shortcut", "text")) == [("hours", "每天 9:00–21:00")]


def test_the_lists_and_their_counts() -> None:
    account, agent, _operator, _outsider = _setup()
    now = datetime.now(UTC)
    fan_message(account, "oClosing", now - timedelta(hours=45))
    fan_message(account, "oFresh", now - timedelta(minutes=5))
    fan_message(account, "oFresh", now - timedelta(minutes=4))
    fold()
    agent_user = account.memberships.get(role=Role.AGENT).user
    Conversation.objects.filter(openid="oFresh").update(assigned_to=agent_user)
    with translation.override("en"):
        rows = agent.get(reverse("console:inbox-rows", args=[account.appid]) + "?view=all").content.decode()
        assert rows.index("oClosing") < rows.index("oFresh")  # oldest waiting first
        assert 'id="tab-mine">Mine <span class="count">1</span> <span class="badge unread"' in rows
        assert 'id="tab-closing">Window closing soon <span class="count">1</span>' in rows
        mine = agent.get(reverse("console:inbox-rows", args=[account.appid]) + "?view=mine").content.decode()
        assert "oFresh" in mine and "oClosing" not in mine
        closing = agent.get(reverse("console:inbox-rows", args=[account.appid]) + "?view=closing").content
        assert b"oClosing" in closing and b"oFresh" not in closing
        # Opening the conversation reads it: the unread badge goes.
        agent.get(reverse("console:conversation", args=[account.appid, "oFresh"]))
        rows = agent.get(reverse("console:inbox-rows", args=[account.appid])).content.decode()
        assert 'id="tab-mine">Mine <span class="count">1</span></a>' in rows


def test_admin_sets_the_commitment_and_bad_values_change_nothing() -> None:
    account = make_account()
    admin = logged_in(member(make_user("admin"), account, Role.ADMIN))
    target = reverse("console:inbox-settings", args=[account.appid])
    bad = {"first_response_minutes": "0", "promise_hours": "48", "max_open_per_agent": "5"}
    admin.post(target, bad, HTTP_REFERER=target)
    assert not InboxSettings.objects.exists()
    good = {"first_response_minutes": "90", "promise_hours": "24", "max_open_per_agent": "5"}
    good["auto_assign"] = "1"
    assert admin.post(target, good).status_code == 302
    chosen = InboxSettings.objects.get()
    c = chosen
    saved = (c.first_response_minutes, c.promise_hours, c.max_open_per_agent, c.auto_assign)
    assert saved == (90, 24, 5, True)


def test_the_threads_poll_swaps_only_when_something_changed() -> None:
    account, agent, _operator, _outsider = _setup()
    fan_message(account, "oFan", datetime.now(UTC) - timedelta(minutes=5), "第一个问题")
    fold()
    page = agent.get(reverse("console:conversation", args=[account.appid, "oFan"])).content.decode()
    poll = page.split('id="thread" class="thread-box" hx-get="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    assert agent.get(poll).status_code == 204
    fan_message(account, "oFan", datetime.now(UTC) - timedelta(minutes=1), "第二个问题")
    fold()
    fresh = agent.get(poll)
    assert fresh.status_code == 200 and "第二个问题" in fresh.content.decode()
