"""Assignment (round robin under a cap), transfer, notes, canned replies, settings: the actions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser

from liucun.accounts.models import OfficialAccount
from liucun.console.tests.conftest import member
from liucun.inbox import actions
from liucun.inbox.models import AgentStatus, CannedReply, Conversation, InboxSettings, Note
from liucun.inbox.refusals import InboxRefused, NotAllowed
from liucun.inbox.tests.fixtures import fan_message, fold
from liucun.staff.models import AuditEntry, Role
from liucun.testing.factories import make_account

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)


def user(name: str, account: OfficialAccount, role: Role = Role.AGENT) -> AbstractBaseUser:
    return member(get_user_model().objects.create_user(name), account, role)


def owners(account: OfficialAccount) -> list[tuple[str, str | None]]:
    return [
        (c.openid, c.assigned_to.get_username() if c.assigned_to else None)
        for c in Conversation.objects.filter(account=account).select_related("assigned_to").order_by("openid")
    ]


def test_round_robin_among_available_agents_oldest_waiting_first_under_the_cap() -> None:
    account = make_account()
    InboxSettings.objects.create(account=account, max_open_per_agent=2)
    li, wang, away = user("li", account), user("wang", account), user("away", account)
    actions.set_available(account, li, True)
    actions.set_available(account, wang, True)
    actions.set_available(account, away, False)
    for i in range(6):
        fan_message(account, f"oFan{i}", T0 + timedelta(minutes=i))
    fold()
    assert owners(account) == [
        ("oFan0", "li"), ("oFan1", "wang"), ("oFan2", "li"), ("oFan3", "wang"),
        ("oFan4", None), ("oFan5", None),
    ]  # fmt: skip
    # Resolving frees a place under the cap: the oldest waiting goes to the agent whose turn it is.
    actions.resolve(wang, Conversation.objects.get(openid="oFan1"))
    assert dict(owners(account))["oFan4"] == "wang"
    assert dict(owners(account))["oFan5"] is None
    # An agent coming back gets the rest.
    actions.set_available(account, away, True)
    assert dict(owners(account))["oFan5"] == "away"


def test_the_rotation_carries_over_between_runs() -> None:
    account = make_account()
    li, wang = user("li", account), user("wang", account)
    actions.set_available(account, li, True)
    actions.set_available(account, wang, True)
    fan_message(account, "oA", T0)
    fold()
    fan_message(account, "oB", T0 + timedelta(minutes=1))
    fold()
    fan_message(account, "oC", T0 + timedelta(minutes=2))
    fold()
    assert owners(account) == [("oA", "li"), ("oB", "wang"), ("oC", "li")]


def test_no_auto_assignment_when_the_account_turned_it_off() -> None:
    account = make_account()
    InboxSettings.objects.create(account=account, auto_assign=False)
    actions.set_available(account, user("li", account), True)
    fan_message(account, "oA", T0)
    fold()
    assert owners(account) == [("oA", None)]


def test_transfer_to_a_colleague_with_a_note_and_who_may_do_it() -> None:
    account, other = make_account(), make_account()
    li, wang, boss = user("li", account), user("wang", account), user("boss", account, Role.OPERATOR)
    outsider = user("outsider", other)
    fan_message(account, "oA", T0)
    fold()
    c = Conversation.objects.get()
    with pytest.raises(NotAllowed):
        actions.assign(li, c, wang.pk)  # an agent cannot hand out a conversation that is not theirs
    actions.assign(li, c, li.pk)  # taking an unassigned one
    with pytest.raises(InboxRefused):
        actions.assign(li, c, outsider.pk)
    with pytest.raises(NotAllowed):
        actions.assign(wang, c, wang.pk)  # nor take a colleague's
    actions.assign(li, c, wang.pk, note="他是会员，请优先")
    c = Conversation.objects.get()
    assert (c.assigned_to_id, c.unread) == (wang.pk, 1)
    assert list(Note.objects.values_list("text", "author__username")) == [("他是会员，请优先", "li")]
    actions.assign(boss, c, None)
    assert Conversation.objects.get().assigned_to_id is None
    assert list(
        AuditEntry.objects.filter(account=account, action__startswith="inbox.")
        .order_by("id")
        .values_list("action", "changes")
    ) == [
        ("inbox.assign", {"from": "", "to": "li"}),
        ("inbox.transfer", {"from": "li", "to": "wang", "note": True}),
        ("inbox.assign", {"from": "wang", "to": ""}),
    ]


def test_notes_are_checked_and_stay_internal() -> None:
    account = make_account()
    li = user("li", account)
    fan_message(account, "oA", T0)
    fold()
    c = Conversation.objects.get()
    with pytest.raises(InboxRefused):
        actions.add_note(li, c, "   ")
    with pytest.raises(InboxRefused):
        actions.add_note(li, c, "x" * 2001)
    actions.add_note(li, c, "已电话联系")
    assert list(Note.objects.values_list("text", flat=True)) == ["已电话联系"]
    from liucun.outbound.models import OutboundMessage

    assert OutboundMessage.objects.count() == 0


def test_canned_replies_shortcuts_unique_per_account_and_expanded() -> None:
    account, other = make_account(), make_account()
    boss = user("boss", account, Role.OPERATOR)
    actions.save_canned(boss, account, shortcut="/hours", title="营业时间", text="我们每天 9:00–21:00 在线。")
    actions.save_canned(boss, other, shortcut="hours", title="其他账号", text="另一个账号")
    with pytest.raises(InboxRefused) as refused:
        actions.save_canned(boss, account, shortcut="hours", title="重复", text="重复")
    assert "/hours" in refused.value.message
    with pytest.raises(InboxRefused):
        actions.save_canned(boss, account, shortcut="has space", title="t", text="x")
    with pytest.raises(InboxRefused):
        actions.save_canned(boss, account, shortcut="long", title="t", text="字" * 683)  # 2049 bytes
    assert actions.expand_shortcut(account.pk, "/hours") == "我们每天 9:00–21:00 在线。"
    assert actions.expand_shortcut(account.pk, " /hours ") == "我们每天 9:00–21:00 在线。"
    assert actions.expand_shortcut(account.pk, "/hours 谢谢") == "/hours 谢谢"
    assert actions.expand_shortcut(account.pk, "/nothing") == "/nothing"
    assert CannedReply.objects.filter(account=account).count() == 1


def test_settings_are_checked_and_nothing_half_saved() -> None:
    account = make_account()
    admin = user("admin", account, Role.ADMIN)
    with pytest.raises(InboxRefused):
        actions.save_settings(admin, account, first_response_minutes=60, promise_hours=0)
    assert not InboxSettings.objects.exists()
    actions.save_settings(admin, account, first_response_minutes=60, promise_hours=24, max_open_per_agent=3)
    saved = InboxSettings.objects.get()
    assert (saved.first_response_minutes, saved.promise_hours, saved.max_open_per_agent) == (60, 24, 3)


def test_availability_needs_a_role_on_the_account() -> None:
    account, other = make_account(), make_account()
    outsider = user("outsider", other)
    with pytest.raises(NotAllowed):
        actions.set_available(account, outsider, True)
    assert not AgentStatus.objects.exists()


def test_erasing_a_fan_blanks_the_notes_about_them_and_the_export_lists_them() -> None:
    from liucun.fans.privacy import erase_fan, export_fan

    account = make_account()
    admin = user("admin", account, Role.ADMIN)
    fan_message(account, "oFan", T0)
    fan_message(account, "oOther", T0)
    fold()
    actions.add_note(admin, Conversation.objects.get(openid="oFan"), "手机 13800000000")
    actions.add_note(admin, Conversation.objects.get(openid="oOther"), "别的粉丝")
    from liucun.fans.models import Fan

    Fan.objects.create(account=account, openid="oFan", is_following=True)
    exported = export_fan(account, "oFan", admin)
    assert [n["text"] for n in exported["inbox_notes"]] == ["手机 13800000000"]
    erase_fan(account, "oFan", admin, "asked by the fan")
    assert sorted(Note.objects.values_list("text", flat=True)) == ["(erased)", "别的粉丝"]
