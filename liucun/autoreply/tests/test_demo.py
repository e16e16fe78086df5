from __future__ import annotations

import pytest

from liucun.autoreply.demo import seed_demo
from liucun.autoreply.models import Rule
from liucun.autoreply.trying import probe_for, try_message
from liucun.servicehours.models import ServiceHours
from liucun.testing.factories import make_account
from wxsim.population.scenario import Scenario

pytestmark = pytest.mark.django_db


def test_demo_rules_answer_every_demo_question_menu_key_and_channel() -> None:
    account = make_account()
    seed_demo(account)
    seed_demo(account)  # every start: nothing doubles
    assert Rule.objects.filter(account=account).count() == 16
    assert ServiceHours.objects.get(account=account).weekly[0] == [0, "09:00", "21:00"]
    questions = Scenario.__dataclass_fields__["questions"].default
    names = {q: try_message(account, probe_for("text", text=q)).rule_name for q in questions}
    assert names == {
        "营业时间是几点？": "营业时间",
        "我的积分怎么查？": "积分查询",
        "订单什么时候发货？": "发货",
        "可以预约吗？": "预约",
    }
    keys = {
        k: try_message(account, probe_for("click", key=k)).rule_name
        for k in ("MENU_POINTS", "MENU_BOOKING", "MENU_ORDERS")
    }
    assert keys == {
        "MENU_POINTS": "菜单：我的积分",
        "MENU_BOOKING": "菜单：预约",
        "MENU_ORDERS": "菜单：我的订单",
    }
    welcomes = {
        s: try_message(account, probe_for("follow", scene=s)).rule_name
        for s in ("store_001", "event_autumn", "giveaway_01", "")
    }
    assert welcomes == {
        "store_001": "门店海报欢迎",
        "event_autumn": "线下活动欢迎",
        "giveaway_01": "抽奖活动欢迎",
        "": "默认欢迎",
    }
    human = try_message(account, probe_for("text", text="人工客服"))
    assert (human.rule_name, human.handoff) == ("人工客服", True)
