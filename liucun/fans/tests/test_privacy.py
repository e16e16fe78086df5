"""The privacy policy on unfollow, per-fan export and erasure on request."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from liucun.accounts.actions import update_account
from liucun.events.models import Event
from liucun.fans.models import Fan, FollowPeriod
from liucun.fans.privacy import REDACTED, erase_after_unfollow
from liucun.staff.api_tokens import create_api_token
from liucun.staff.models import AuditEntry, Membership, Role
from liucun.testing.factories import make_account

pytestmark = pytest.mark.django_db
T = datetime(2026, 5, 1, 10, 0, tzinfo=UTC)


def _fan_with_history(account, openid: str, *, following: bool) -> Fan:
    fan = Fan.objects.create(
        account=account,
        openid=openid,
        is_following=following,
        unionid="uUnion",
        remark="VIP 张女士",
        attributes={"phone": "13800000000", "store": "静安店"},
        unfollowed_at=None if following else T,
        channel="store_1",
    )
    FollowPeriod.objects.create(
        account=account, fan=fan, followed_at=T, unfollowed_at=None if following else T, channel="store_1"
    )
    Event.objects.create(
        account=account,
        openid=openid,
        kind="text",
        dedupe_key=f"msg:{openid}",
        wechat_time=T,
        received_at=T,
        payload={"Content": "我的手机是13800000000", "MsgId": "1"},
        reply="<xml>...</xml>",
    )
    Event.objects.create(
        account=account,
        openid=openid,
        kind="event.subscribe",
        dedupe_key=f"evt:{openid}",
        wechat_time=T,
        received_at=T,
        payload={"Event": "subscribe", "EventKey": "qrscene_store_1"},
    )
    return fan


def test_unfollowed_fans_lose_personal_data_and_keep_their_lifecycle() -> None:
    account = make_account()
    _fan_with_history(account, "oGone", following=False)
    _fan_with_history(account, "oStays", following=True)
    assert erase_after_unfollow() == 1
    gone = Fan.objects.get(openid="oGone")
    assert (gone.remark, gone.attributes, gone.unionid) == ("", {}, "")
    assert gone.channel == "store_1" and gone.personal_data_erased_at is not None
    text = Event.objects.get(openid="oGone", kind="text")
    # The text is gone; that it was answered is not (analysis of response rates needs it).
    assert text.payload == {"Content": REDACTED, "MsgId": "1"} and text.reply == REDACTED
    assert Event.objects.get(openid="oGone", kind="event.subscribe").payload["EventKey"] == "qrscene_store_1"
    assert FollowPeriod.objects.get(fan=gone).unfollowed_at == T
    stays = Fan.objects.get(openid="oStays")
    assert stays.remark == "VIP 张女士"
    assert erase_after_unfollow() == 0  # done once, not again
    assert (
        AuditEntry.objects.filter(action="fans.erase_personal_data", actor_label="privacy-policy").count()
        == 1
    )


def test_accounts_may_keep_data_by_policy() -> None:
    account = update_account(make_account(), privacy_on_unfollow="keep")
    _fan_with_history(account, "oKept", following=False)
    assert erase_after_unfollow() == 0
    assert Fan.objects.get(openid="oKept").attributes["phone"] == "13800000000"


def test_export_and_erase_on_request_through_the_api(client: Client) -> None:
    account = make_account()
    _fan_with_history(account, "oAsks", following=True)
    users = get_user_model().objects
    admin, operator = (
        users.create_user("admin1", password="x" * 12),
        users.create_user("op1", password="x" * 12),
    )
    Membership.objects.create(user=admin, account=account, role=Role.ADMIN)
    Membership.objects.create(user=operator, account=account, role=Role.OPERATOR)
    _, admin_key = create_api_token(admin, "dpo", max_role=Role.ADMIN)
    _, op_key = create_api_token(operator, "ops", max_role=Role.OPERATOR)
    base = f"/api/accounts/{account.appid}/fans/oAsks"
    assert client.get(f"{base}/export", HTTP_AUTHORIZATION=f"Bearer {op_key}").status_code == 403
    exported = client.get(f"{base}/export", HTTP_AUTHORIZATION=f"Bearer {admin_key}").json()
    assert exported["fan"]["attributes"]["phone"] == "13800000000"
    assert [e["kind"] for e in exported["events"]] == ["text", "event.subscribe"]
    assert client.post(f"{base}/erase", HTTP_AUTHORIZATION=f"Bearer {op_key}").status_code == 403
    assert client.post(f"{base}/erase", HTTP_AUTHORIZATION=f"Bearer {admin_key}").status_code == 200
    fan = Fan.objects.get(openid="oAsks")
    assert fan.attributes == {} and fan.is_following  # still a fan, just without personal data
    actions = set(AuditEntry.objects.filter(account=account).values_list("action", flat=True))
    assert {"fans.export_personal_data", "fans.erase_personal_data"} <= actions


def test_an_erasure_keeps_protocol_metadata_only(tmp_path) -> None:
    account = make_account()
    fan = _fan_with_history(account, "oMeta", following=True)
    kinds = {
        "event.view": {
            "Event": "VIEW",
            "EventKey": "https://shop.example/me?phone=13800000000",
            "MenuId": "9",
        },
        "event.click": {"Event": "CLICK", "EventKey": "MENU_POINTS"},
        "event.scan": {"Event": "SCAN", "EventKey": "store_1", "Ticket": "gQH47joAAAAAAAAAASxodHRw"},
        "text": {"Content": "我是张三", "MsgId": "7", "NewFieldWeChatAddsLater": "住址: 静安区"},
    }
    for i, (kind, payload) in enumerate(kinds.items()):
        Event.objects.create(account=account, openid=fan.openid, kind=kind, dedupe_key=f"m{i}", wechat_time=T,
                             received_at=T, payload=payload, reply="")  # fmt: skip
    from liucun.fans.privacy import erase_fan

    assert erase_fan(account, fan.openid, "tester", "asked")
    after = {e.kind: e.payload for e in Event.objects.filter(openid="oMeta", dedupe_key__startswith="m")}
    assert after["event.view"] == {"Event": "VIEW", "EventKey": REDACTED, "MenuId": "9"}
    assert after["event.click"] == {"Event": "CLICK", "EventKey": "MENU_POINTS"}
    assert after["event.scan"] == {"Event": "SCAN", "EventKey": "store_1", "Ticket": REDACTED}
    assert after["text"] == {"Content": REDACTED, "MsgId": "7", "NewFieldWeChatAddsLater": REDACTED}
    welcome = Event.objects.get(openid="oMeta", kind="event.subscribe")
    assert welcome.payload["EventKey"] == "qrscene_store_1"


@pytest.mark.django_db(transaction=True)
def test_erased_values_leave_the_sqlite_files() -> None:
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("the write-ahead log and free pages are SQLite's; PostgreSQL's VACUUM is the operator's")
    account = make_account()
    _fan_with_history(account, "oDisk", following=False)
    marker = b"13800000000"
    assert erase_after_unfollow() == 1
    path = connection.settings_dict["NAME"]
    for name in (path, f"{path}-wal"):
        try:
            data = Path(name).read_bytes()
        except FileNotFoundError:
            continue
        assert marker not in data, f"the erased phone number is still in {name}"


def test_an_erasure_clears_the_remark_in_wechat_too(django_capture_on_commit_callbacks) -> None:
    from django_tasks_db.models import DBTaskResult

    from liucun.crm.actions import set_remark
    from liucun.fans.privacy import erase_fan
    from liucun.fans.tasks import clear_remark_in_wechat
    from liucun.testing.factories import make_account_on_wxsim
    from wxsim.control_client import WxsimControl, running_wxsim

    with running_wxsim(seed=3) as url:
        control = WxsimControl(url)
        account = make_account_on_wxsim(control)
        control.add_fans(account.appid, openid="oRemark", following=True)
        Fan.objects.create(account=account, openid="oRemark", is_following=True)
        set_remark("tester", account, "oRemark", "王女士 VIP")
        in_wechat = {f["openid"]: f for f in control.fans(account.appid)}
        assert in_wechat["oRemark"]["remark"] == "王女士 VIP"
        with django_capture_on_commit_callbacks(execute=True):
            erase_fan(account, "oRemark", "tester", "the fan asked")
        queued = DBTaskResult.objects.filter(task_path__endswith="clear_remark_in_wechat")
        assert [r.args_kwargs["args"] for r in queued] == [[account.pk, "oRemark"]]
        assert clear_remark_in_wechat.call(account.pk, "oRemark") == "cleared"
        in_wechat = {f["openid"]: f for f in control.fans(account.appid)}
        assert in_wechat["oRemark"]["remark"] == ""
