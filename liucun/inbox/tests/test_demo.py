"""The demo's inbox: seeding is safe on every start, and the demo agents answer some questions through the
real reply path (wxsim's fan receives them)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from liucun.fans.models import Fan
from liucun.inbox.demo import DEMO_AGENTS, answer_some, canned_for, seed_demo
from liucun.inbox.models import AgentStatus, CannedReply, Conversation, State
from liucun.inbox.tests.fixtures import fan_message, fold
from liucun.outbound.tests.helpers import run_deliveries
from liucun.staff.models import Membership
from liucun.testing.factories import make_account_on_wxsim
from wxsim.control_client import WxsimControl, running_wxsim

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def wxsim_url() -> Iterator[str]:
    with running_wxsim(seed=21) as url:
        yield url


def test_seeding_twice_changes_nothing_and_keeps_edits(wxsim_url: str) -> None:
    account = make_account_on_wxsim(WxsimControl(wxsim_url))
    seed_demo(account)
    CannedReply.objects.filter(account=account, shortcut="hours").update(text="改过的营业时间")
    CannedReply.objects.filter(account=account, shortcut="thanks").delete()
    seed_demo(account)
    texts = dict(CannedReply.objects.filter(account=account).values_list("shortcut", "text"))
    assert sorted(texts) == ["booking", "hours", "points", "shipping", "thanks"]
    assert texts["hours"] == "改过的营业时间"
    assert Membership.objects.filter(account=account, user__username__in=DEMO_AGENTS).count() == 2
    assert AgentStatus.objects.filter(account=account, available=True).count() == 2
    assert canned_for(account.pk, "可以预约吗？").startswith("您好！点击菜单“预约到店”")
    assert canned_for(account.pk, "在吗") == texts["thanks"]


def test_demo_agents_answer_one_in_three_and_the_fans_receive_it(wxsim_url: str) -> None:
    control = WxsimControl(wxsim_url)
    account = make_account_on_wxsim(control)
    seed_demo(account)
    openids = control.add_fans(account.appid, count=6)
    for openid in openids:
        done = control.act(account.appid, "text", openid, content="营业时间是几点？", drop_callback=True)
        at = datetime.fromtimestamp(done["time"], UTC)
        Fan.objects.create(account=account, openid=openid, is_following=True, last_message_at=at)
        fan_message(account, openid, at, "营业时间是几点？")
    fold()
    assert Conversation.objects.filter(account=account, assigned_to__isnull=False).count() == 6
    chosen = sorted(c.pk for c in Conversation.objects.filter(account=account) if c.pk % 3 == 0)
    answered = answer_some(account, now=datetime.now(UTC) + timedelta(minutes=3))
    assert answered == len(chosen) > 0
    assert answer_some(account, now=datetime.now(UTC) + timedelta(minutes=3)) == 0  # already answered
    assert run_deliveries() == ["sent"] * answered
    waiting = Conversation.objects.filter(account=account, state=State.WAITING)
    assert sorted(waiting.values_list("pk", flat=True)) == chosen
    got = []
    for c in waiting:
        got += control.recorder(appid=account.appid, openid=c.openid, kind="customer_service")
    assert [e["detail"]["text"]["content"] for e in got] == [
        CannedReply.objects.get(shortcut="hours").text
    ] * answered


def test_the_demo_agents_run_only_where_the_demo_account_has_them(wxsim_url: str) -> None:
    from liucun.accounts.models import OfficialAccount
    from liucun.inbox.periodic import _demo_agents
    from liucun.runner.demo_wxsim import DEMO_APPID

    account = make_account_on_wxsim(WxsimControl(wxsim_url))
    seed_demo(account)  # a real account with the demo's agents is not the demo
    assert _demo_agents() == 0
    OfficialAccount.objects.filter(pk=account.pk).update(appid=DEMO_APPID)
    assert _demo_agents() == 1
