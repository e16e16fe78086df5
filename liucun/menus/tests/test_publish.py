"""Publishing menus to wxsim over real HTTP: default and conditional menus, read-back, trymatch, delete,
restore from the history, and refusals that change nothing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from liucun.accounts.models import OfficialAccount
from liucun.accounts.wechat_api import client_for
from liucun.fans.models import Fan
from liucun.menus import actions
from liucun.menus.models import ButtonName, MenuDraft, MenuReading, PublishedMenu
from liucun.menus.queries import button_names
from liucun.menus.spec import MenuRefused
from liucun.staff.models import AuditEntry
from liucun.tags import actions as tag_actions
from liucun.testing.factories import make_account_on_wxsim
from liucun.wechat_refusals import WeChatRefused
from wxsim.control_client import WxsimControl, running_wxsim

pytestmark = pytest.mark.django_db

MENU = [
    {"type": "click", "name": "积分查询", "key": "MENU_POINTS"},
    {
        "name": "服务",
        "sub_button": [
            {"type": "click", "name": "预约到店", "key": "MENU_BOOKING"},
            {"type": "view", "name": "官网", "url": "https://shop.example.cn/"},
            {"type": "miniprogram", "name": "小程序", "url": "https://shop.example.cn/m", "appid": "wxmini01",
             "pagepath": "pages/home"},
        ],
    },
]  # fmt: skip
VIP_MENU = [{"type": "click", "name": "会员专享", "key": "MENU_VIP"}]


@pytest.fixture(scope="module")
def wxsim_url() -> Iterator[str]:
    with running_wxsim(seed=11) as url:
        yield url


@pytest.fixture
def control(wxsim_url: str) -> WxsimControl:
    return WxsimControl(wxsim_url)


@pytest.fixture
def account(control: WxsimControl) -> OfficialAccount:
    return make_account_on_wxsim(control)


def _wechat_menu(account: OfficialAccount) -> dict[str, Any]:
    with client_for(account) as client:
        return client.get("/cgi-bin/menu/get")


def test_a_draft_published_is_what_menu_get_answers_with_history_and_audit(account: OfficialAccount) -> None:
    draft = actions.create_draft("alice", account, "春季菜单", MENU)
    published = actions.publish("alice", draft)
    assert _wechat_menu(account)["menu"]["button"] == MENU
    assert (published.kind, published.ok, published.answer, published.published_by) == (
        "default", True, "ok", "alice"
    )  # fmt: skip
    assert published.buttons == MENU and published.draft_name == "春季菜单"
    entry = AuditEntry.objects.get(account=account, action="menus.publish")
    assert (entry.target, entry.changes["buttons"], entry.changes["history"]) == (
        "春季菜单",
        MENU,
        published.pk,
    )
    reading = actions.read_back("alice", account)
    assert (reading.buttons, reading.conditional) == (MENU, [])
    assert button_names(account.pk) == {
        "MENU_POINTS": "积分查询",
        "MENU_BOOKING": "预约到店",
        "https://shop.example.cn/": "官网",
        "pages/home": "小程序",  # a mini program button's event carries its page
    }


def test_a_conditional_menu_for_a_tag_shows_in_menu_get_and_trymatch(
    account: OfficialAccount, control: WxsimControl
) -> None:
    vip, plain = control.add_fans(account.appid, count=2)
    Fan.objects.bulk_create(Fan(account=account, openid=o, is_following=True) for o in (vip, plain))
    tag = tag_actions.create_tag("alice", account, "会员")
    tag_actions.tag_fans("alice", account, tag.pk, [vip])
    actions.publish("alice", actions.create_draft("alice", account, "默认", MENU))
    conditional = actions.publish(
        "alice", actions.create_draft("alice", account, "会员菜单", VIP_MENU), tag=tag
    )
    assert conditional.menu_id and (conditional.tag_wechat_id, conditional.tag_name) == (
        tag.wechat_id,
        "会员",
    )
    answer = _wechat_menu(account)
    assert [(m["menuid"], m["button"], m["matchrule"]) for m in answer["conditionalmenu"]] == [
        (conditional.menu_id, VIP_MENU, {"tag_id": str(tag.wechat_id)})
    ]
    assert actions.try_match(account, vip) == VIP_MENU
    assert actions.try_match(account, plain) == MENU
    reading = actions.read_back("alice", account)
    assert reading.conditional == [
        {
            "menu_id": conditional.menu_id,
            "tag_wechat_id": tag.wechat_id,
            "platform": None,
            "buttons": VIP_MENU,
        }
    ]
    actions.delete_conditional("alice", account, conditional.menu_id)
    assert "conditionalmenu" not in _wechat_menu(account)
    assert actions.try_match(account, vip) == MENU
    assert AuditEntry.objects.filter(account=account, action="menus.delete_conditional").count() == 1


def test_restore_publishes_an_earlier_version_again(account: OfficialAccount) -> None:
    draft = actions.create_draft("alice", account, "菜单", MENU)
    first = actions.publish("alice", draft)
    actions.update_draft("bob", draft, buttons=VIP_MENU)
    actions.publish("bob", draft)
    assert _wechat_menu(account)["menu"]["button"] == VIP_MENU
    again = actions.restore("carol", first)
    assert _wechat_menu(account)["menu"]["button"] == MENU
    assert (again.restored_from_id, again.buttons, again.published_by) == (first.pk, MENU, "carol")
    history = PublishedMenu.objects.filter(account=account).order_by("id")
    assert list(history.values_list("published_by", flat=True)) == ["alice", "bob", "carol"]
    assert (
        AuditEntry.objects.get(account=account, action="menus.restore").changes["restored_from"] == first.pk
    )


def test_delete_removes_every_menu_and_reads_back_empty(account: OfficialAccount) -> None:
    actions.publish("alice", actions.create_draft("alice", account, "菜单", MENU))
    deleted = actions.delete_menus("alice", account)
    assert (deleted.kind, deleted.ok) == ("delete", True)
    reading = actions.read_back("alice", account)
    assert (reading.buttons, reading.conditional) == ([], [])
    with pytest.raises(MenuRefused, match="Only a published menu can be restored"):
        actions.restore("alice", deleted)


def test_wechat_refusal_is_kept_in_history_and_changes_nothing_else(account: OfficialAccount) -> None:
    # No default menu yet: WeChat refuses a conditional one (65303).
    tag = tag_actions.create_tag("alice", account, "会员")
    draft = actions.create_draft("alice", account, "会员菜单", VIP_MENU)
    with pytest.raises(WeChatRefused) as caught:
        actions.publish("alice", draft, tag=tag)
    assert caught.value.code == "wechat.65303"
    failed = PublishedMenu.objects.get(account=account)
    assert (failed.ok, failed.kind, failed.answer.split()[0]) == (False, "conditional", "65303")
    assert not AuditEntry.objects.filter(account=account, action__startswith="menus.publish").exists()
    assert not ButtonName.objects.filter(account=account, published=True).exists()


def test_a_menu_over_the_limits_is_neither_saved_nor_sent(account: OfficialAccount) -> None:
    too_long = [{"type": "click", "name": "积分查询", "key": "K" * 129}]
    with pytest.raises(MenuRefused, match="Button 1 “积分查询”: the key must be at most 128 bytes, is 129"):
        actions.create_draft("alice", account, "坏菜单", too_long)
    draft = actions.create_draft("alice", account, "好菜单", MENU)
    with pytest.raises(MenuRefused, match="Button 1: the name must be"):
        actions.update_draft(
            "alice", draft, name="新名字", buttons=[{"type": "click", "name": "", "key": "K"}]
        )
    draft.refresh_from_db()
    assert (draft.name, draft.buttons) == ("好菜单", MENU)
    assert MenuDraft.objects.filter(account=account).count() == 1
    with pytest.raises(MenuRefused, match="already exists"):
        actions.create_draft("alice", account, "好菜单", MENU)
    assert not PublishedMenu.objects.exists() and not MenuReading.objects.exists()
    assert (_wechat_menu_or_none(account)) is None


def _wechat_menu_or_none(account: OfficialAccount) -> Any:
    from liucun.wechat.apierrors import WeChatAPIError

    try:
        return _wechat_menu(account)
    except WeChatAPIError as exc:
        assert exc.errcode == 46003
        return None


def test_draft_names_fill_gaps_but_published_names_win(account: OfficialAccount) -> None:
    actions.publish("alice", actions.create_draft("alice", account, "线上", MENU))
    renamed = [
        {"type": "click", "name": "改名积分", "key": "MENU_POINTS"},
        {"type": "click", "name": "新按钮", "key": "MENU_NEW"},
    ]
    actions.create_draft("alice", account, "草稿", renamed)
    names = button_names(account.pk)
    assert (names["MENU_POINTS"], names["MENU_NEW"]) == ("积分查询", "新按钮")
