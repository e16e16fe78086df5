"""A fan's remark (synced to WeChat, tested against wxsim over HTTP) and custom attributes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings

from liucun.accounts.actions import update_account
from liucun.crm import actions
from liucun.crm.privacy import REDACTED
from liucun.fans.models import Fan
from liucun.fans.privacy import erase_after_unfollow, erase_fan
from liucun.staff.models import AuditEntry
from liucun.testing.factories import make_account, make_account_on_wxsim
from wxsim.control_client import WxsimControl, running_wxsim

pytestmark = pytest.mark.django_db
REMARK_PATH = "/cgi-bin/user/info/updateremark"


@pytest.fixture(scope="module")
def wxsim_url() -> Iterator[str]:
    with running_wxsim(seed=21) as url:
        yield url


@pytest.fixture
def control(wxsim_url: str) -> WxsimControl:
    return WxsimControl(wxsim_url)


def _remark_in_wechat(control: WxsimControl, appid: str, openid: str) -> str:
    return next(f["remark"] for f in control.fans(appid) if f["openid"] == openid)


def test_a_remark_is_set_in_wechat_then_stored_and_audited(control: WxsimControl) -> None:
    account = make_account_on_wxsim(control)
    openid = control.add_fans(account.appid, count=1)[0]
    Fan.objects.create(account=account, openid=openid, is_following=True)
    fan = actions.set_remark("operator-1", account, openid, "  VIP 张女士（静安店）  ")
    assert fan.remark == "VIP 张女士（静安店）"
    assert Fan.objects.get(pk=fan.pk).remark == "VIP 张女士（静安店）"
    assert _remark_in_wechat(control, account.appid, openid) == "VIP 张女士（静安店）"
    entry = AuditEntry.objects.get(action="crm.set_remark")
    assert (entry.actor_label, entry.target, entry.account) == ("operator-1", openid, account)
    assert entry.changes == {"before": {"remark": ""}, "after": {"remark": "VIP 张女士（静安店）"}}


def test_a_wechat_refusal_leaves_the_remark_unchanged(control: WxsimControl) -> None:
    account = make_account_on_wxsim(control)
    openid = control.add_fans(account.appid, count=1)[0]
    Fan.objects.create(account=account, openid=openid, is_following=True, remark="老客户")
    control.faults(account.appid, script=[{"path": REMARK_PATH, "errcode": 43004}])
    with pytest.raises(actions.RemarkNotSynced) as refused:
        actions.set_remark("operator-1", account, openid, "新备注")
    assert "no longer follows" in refused.value.messages[0] and not refused.value.retryable
    assert Fan.objects.get(openid=openid).remark == "老客户"
    assert not AuditEntry.objects.filter(action="crm.set_remark").exists()

    attempts = settings.LIUCUN_WECHAT_MAX_RETRIES + 1
    control.faults(account.appid, script=[{"path": REMARK_PATH, "status": 503}] * attempts)
    with pytest.raises(actions.RemarkNotSynced) as busy:
        actions.set_remark("operator-1", account, openid, "新备注")
    assert busy.value.retryable and "try again" in busy.value.messages[0]
    assert Fan.objects.get(openid=openid).remark == "老客户"
    assert _remark_in_wechat(control, account.appid, openid) == ""


def test_remarks_are_checked_before_wechat_is_asked(control: WxsimControl) -> None:
    account = make_account_on_wxsim(control)
    openid = control.add_fans(account.appid, count=1)[0]
    Fan.objects.create(account=account, openid=openid, is_following=True)
    with pytest.raises(actions.CrmRefused, match="at most 30 characters"):
        actions.set_remark("op", account, openid, "长" * 31)
    with pytest.raises(actions.FanNotFound):
        actions.set_remark("op", account, "oNobody", "x")
    assert _remark_in_wechat(control, account.appid, openid) == ""
    unverified = make_account(account_type="subscription", verified=False)
    Fan.objects.create(account=unverified, openid="o1", is_following=True)
    with pytest.raises(actions.CrmRefused, match="verified account"):
        actions.set_remark("op", unverified, "o1", "x")


def test_attributes_are_set_removed_and_audited_with_before_and_after() -> None:
    account = make_account()
    Fan.objects.create(account=account, openid="o1", is_following=True, attributes={"store": "静安店"})
    fan = actions.set_attributes("op", account, "o1", {"phone": "+86 139-0000-1111", "会员等级": "金卡"})
    assert fan.attributes == {"store": "静安店", "phone": "13900001111", "会员等级": "金卡"}
    fan = actions.set_attributes("op", account, "o1", {"store": None, "会员等级": "金卡"})
    assert fan.attributes == {"phone": "13900001111", "会员等级": "金卡"}
    entries = list(AuditEntry.objects.filter(action="crm.set_attributes").order_by("id"))
    assert [e.changes for e in entries] == [
        {"before": {"phone": None, "会员等级": None}, "after": {"phone": "13900001111", "会员等级": "金卡"}},
        {"before": {"store": "静安店"}, "after": {"store": None}},
    ]
    actions.set_attributes("op", account, "o1", {"会员等级": "金卡"})  # no change, no audit entry
    assert AuditEntry.objects.filter(action="crm.set_attributes").count() == 2


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"phone": "12345"}, "phone: not a mainland mobile number"),
        ({"store": "x" * 201}, "201 characters"),
        ({"k" * 41: "v"}, "longer than 40"),
        ({"has space": "v"}, "may hold letters"),
        ({"openid": "v"}, "fan field"),
        ({}, "at least one"),
    ],
)
def test_attribute_limits(changes, message) -> None:
    account = make_account()
    Fan.objects.create(account=account, openid="o1", is_following=True)
    with pytest.raises(actions.CrmRefused) as refused:
        actions.set_attributes("op", account, "o1", changes)
    assert message in " ".join(refused.value.messages)
    assert Fan.objects.get(openid="o1").attributes == {}


def test_at_most_fifty_attributes_a_fan() -> None:
    account = make_account()
    Fan.objects.create(account=account, openid="o1", is_following=True)
    actions.set_attributes("op", account, "o1", {f"k{i}": "v" for i in range(50)})
    with pytest.raises(actions.CrmRefused, match="51 attributes"):
        actions.set_attributes("op", account, "o1", {"one_more": "v"})
    actions.set_attributes("op", account, "o1", {"k0": None, "one_more": "v"})  # a swap stays at 50
    assert len(Fan.objects.get(openid="o1").attributes) == 50


def test_erasure_applies_again_after_an_edit_of_an_erased_fan() -> None:
    account = make_account()
    now = datetime.now(UTC)
    fan = Fan.objects.create(account=account, openid="o1", is_following=False, unfollowed_at=now)
    with pytest.raises(actions.CrmRefused, match="erases personal data"):
        actions.set_attributes("op", account, "o1", {"store": "静安店"})
    erase_after_unfollow()
    # They come back: editing is allowed again, and the next unfollow erases again.
    Fan.objects.filter(pk=fan.pk).update(is_following=True, followed_at=now + timedelta(seconds=5))
    actions.set_attributes("op", account, "o1", {"store": "静安店", "phone": "13800138000"})
    Fan.objects.filter(pk=fan.pk).update(is_following=False, unfollowed_at=now + timedelta(seconds=9))
    assert erase_after_unfollow() == 1
    assert Fan.objects.get(pk=fan.pk).attributes == {}
    keep = update_account(make_account(), privacy_on_unfollow="keep")
    Fan.objects.create(account=keep, openid="o2", is_following=False, unfollowed_at=now)
    assert actions.set_attributes("op", keep, "o2", {"store": "静安店"}).attributes == {"store": "静安店"}


def test_erasure_redacts_the_values_in_edit_audit_entries() -> None:
    account = make_account()
    Fan.objects.create(account=account, openid="o1", is_following=True)
    Fan.objects.create(account=account, openid="o2", is_following=True)
    actions.set_attributes("op", account, "o1", {"phone": "13800138000", "store": "静安店"})
    actions.set_attributes("op", account, "o2", {"phone": "13900139000"})
    assert erase_fan(account, "o1", "op", "request")
    erased = AuditEntry.objects.get(action="crm.set_attributes", target="o1")
    assert erased.changes == {
        "before": {"phone": None, "store": None},
        "after": {"phone": REDACTED, "store": REDACTED},
    }
    assert erased.actor_label == "op"  # who and when stay
    kept = AuditEntry.objects.get(action="crm.set_attributes", target="o2")
    assert kept.changes["after"] == {"phone": "13900139000"}
