"""Follower sync against wxsim: pages, checkpoints, and reconciliation both ways."""

from __future__ import annotations

import time
from collections.abc import Collection, Iterator
from datetime import UTC, datetime

import pytest
from django.test import Client

from liucun.accounts.models import OfficialAccount
from liucun.accounts.wechat_api import client_for
from liucun.events.models import Event
from liucun.fans.actions import SyncAlreadyRunning, start_follower_sync
from liucun.fans.models import Fan, FollowPeriod, SyncJob, SyncStatus
from liucun.fans.sync import run_sync
from liucun.staff.models import AuditEntry
from liucun.testing.factories import make_account_on_wxsim
from liucun.testing.wechat_peer import WeChatPeer
from wxsim.control_client import WxsimControl, running_wxsim

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def wxsim_url() -> Iterator[str]:
    with running_wxsim(seed=12) as url:
        yield url


@pytest.fixture
def control(wxsim_url: str) -> WxsimControl:
    return WxsimControl(wxsim_url)


def _following(control: WxsimControl, appid: str) -> set[str]:
    return {f["openid"] for f in control.fans(appid) if f["subscribe"]}


def test_sync_reconciles_both_ways(control: WxsimControl) -> None:
    account = make_account_on_wxsim(control)
    known = control.add_fans(account.appid, count=5)
    strangers = control.add_fans(account.appid, count=7, scene="store_88")
    for openid in known:
        Fan.objects.create(account=account, openid=openid, is_following=True)
    came_back = control.add_fans(account.appid, count=1)[0]
    Fan.objects.create(account=account, openid=came_back, is_following=False)
    # Liucun believes these follow, but WeChat lost their unfollow callbacks: they are gone.
    lost = ["oLostUnfollow1", "oLostUnfollow2"]
    for openid in lost:
        fan = Fan.objects.create(account=account, openid=openid, is_following=True)
        FollowPeriod.objects.create(account=account, fan=fan, followed_at=None)

    job = start_follower_sync("tester", account)
    run_sync(job, client_for(account))
    job.refresh_from_db()

    assert job.status == SyncStatus.DONE and job.progress == 1.0
    assert (job.total, job.seen, job.created_fans, job.refollowed, job.reconciled_unfollows) == (
        13,
        13,
        7,
        1,
        2,
    )
    following = set(Fan.objects.filter(account=account, is_following=True).values_list("openid", flat=True))
    assert following == _following(control, account.appid)
    new = Fan.objects.get(account=account, openid=strangers[0])
    assert new.channel == "store_88" and new.unionid and new.subscribe_scene == "ADD_SCENE_QR_CODE"
    assert new.follow_periods.get().follow_source == "sync"
    for openid in lost:
        period = FollowPeriod.objects.get(fan__account=account, fan__openid=openid)
        assert period.unfollow_source == "reconciled" and period.unfollowed_at is not None
    assert Event.objects.filter(account=account, kind="sync.unfollow_reconciled").count() == 2
    assert AuditEntry.objects.filter(account=account, action="fans.start_follower_sync").count() == 1


def test_sync_resumes_after_the_last_finished_page(control: WxsimControl) -> None:
    account = make_account_on_wxsim(control)
    control.add_fans(account.appid, count=10_003)
    job = start_follower_sync("tester", account)
    client = client_for(account)
    run_sync(job, client, max_pages=1)  # the worker "dies" after one page
    job.refresh_from_db()
    assert (job.status, job.pages_done, job.seen) == (SyncStatus.RUNNING, 1, 10_000)
    assert job.next_openid
    pages_seen = []
    run_sync(job, client, on_page=lambda j: pages_seen.append(j.pages_done))
    job.refresh_from_db()
    assert pages_seen == [2]  # the finished page was not fetched again
    assert job.status == SyncStatus.DONE and job.seen == 10_003 and job.created_fans == 10_003
    assert Fan.objects.filter(account=account, is_following=True).count() == 10_003


def test_one_sync_at_a_time(control: WxsimControl) -> None:
    account = make_account_on_wxsim(control)
    start_follower_sync("tester", account)
    with pytest.raises(SyncAlreadyRunning):
        start_follower_sync("tester", account)
    assert SyncJob.objects.filter(account=account).count() == 1


def test_a_follow_during_the_sync_is_not_undone(control: WxsimControl) -> None:
    account = make_account_on_wxsim(control)
    control.add_fans(account.appid, count=3)
    job = start_follower_sync("tester", account)
    client = client_for(account)
    run_sync(job, client, max_pages=0)  # started, nothing fetched yet
    job.refresh_from_db()
    # A follow arrives by callback after the sync began; the list the sync reads does not hold it yet.
    late = Fan.objects.create(
        account=account, openid="oLateFollower", is_following=True, follow_state_at=job.started_at
    )
    run_sync(job, client)
    late.refresh_from_db()
    assert late.is_following


# Fields a callback and a sync may disagree on, and why. Everything else must be equal.
WHO = {"id", "openid", "unionid", "created_at", "updated_at", "profile_refreshed_at"}  # another person
NO_ACTION_SEEN = {"last_event_at", "last_interaction_at"}  # a sync sees a state, not what the fan did
UNFOLLOW_TIME_LOST = {"follow_state_at", "unfollowed_at"}  # a reconciled unfollow is dated when found


def _fan_fields(fan: Fan, skip: set[str]) -> dict[str, object]:
    return {f.attname: getattr(fan, f.attname) for f in Fan._meta.concrete_fields if f.attname not in skip}


def _periods(fan: Fan, skip: Collection[str] = ()) -> list[dict[str, object]]:
    names = ["followed_at", "unfollowed_at", "channel", "follow_source", "unfollow_source"]
    rows = fan.follow_periods.order_by("followed_at", "id").values(*names)
    return [{k: v for k, v in row.items() if k not in skip} for row in rows]


def _deliver(client: Client, account: OfficialAccount, openid: str, event: str, at: int, scene: str) -> None:
    """The callback WeChat sends for a follow or unfollow, signed and encrypted by an independent peer."""
    peer = WeChatPeer(
        appid=account.appid,
        token=account.token,
        aes_key=account.encoding_aes_key,
        mode=account.encryption_mode,
    )
    key = f"<EventKey><![CDATA[qrscene_{scene}]]></EventKey>" if scene else ""
    xml = (
        f"<xml><ToUserName><![CDATA[{account.original_id}]]></ToUserName>"
        f"<FromUserName><![CDATA[{openid}]]></FromUserName><CreateTime>{at}</CreateTime>"
        f"<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[{event}]]></Event>{key}</xml>"
    )
    request = peer.sign(xml)
    assert client.generic("POST", request.url, request.body, content_type="text/xml").status_code == 200


def test_the_same_history_through_callbacks_and_through_a_sync_gives_the_same_fans(
    control: WxsimControl, client: Client
) -> None:
    from liucun.fans.tasks import refresh_new_fan_profiles

    day = 86400
    t1 = int(time.time()) - 20 * day
    t2, t3 = t1 + 3 * day, t1 + 9 * day
    account = make_account_on_wxsim(control)

    def act(action: str, openid: str, at: int, *, lost: bool = False, scene: str = "") -> None:
        # WeChat's side (wxsim) always changes; Liucun gets the callback unless WeChat lost it.
        control.act(account.appid, action, openid, at=at, drop_callback=True, scene=scene)
        if not lost:
            _deliver(client, account, openid, "subscribe" if action == "follow" else "unsubscribe", at, scene)

    # Each history twice: every callback delivered (...Cb), or one lost so that only a sync finds out.
    for fan in ("oRefollowCb", "oRefollowSync"):
        act("follow", fan, t1, scene="store_1")
        act("unfollow", fan, t2)
        act("follow", fan, t3, scene="store_2", lost=fan.endswith("Sync"))
    for fan in ("oLeftCb", "oLeftSync"):
        act("follow", fan, t1, scene="store_1")
        act("unfollow", fan, t2, lost=fan.endswith("Sync"))
    act("follow", "oNewCb", t1, scene="store_1")
    act("follow", "oNewSync", t1, scene="store_1", lost=True)
    assert not Fan.objects.filter(openid="oNewSync").exists()
    assert not Fan.objects.get(openid="oRefollowSync").is_following

    job = start_follower_sync("tester", account)
    wechat = client_for(account)
    run_sync(job, wechat)
    wechat.close()
    # The profile job reads the fans the callbacks brought, and the one the sync refollowed: the sync
    # stores user/info only for the fans it creates.
    assert refresh_new_fan_profiles.call(account.pk) == 3
    job.refresh_from_db()
    assert (job.created_fans, job.refollowed, job.reconciled_unfollows) == (1, 1, 1)

    fans = {f.openid: f for f in Fan.objects.filter(account=account)}
    assert set(fans) == {"oRefollowCb", "oRefollowSync", "oLeftCb", "oLeftSync", "oNewCb", "oNewSync"}

    at = {t: datetime.fromtimestamp(t, tz=UTC) for t in (t1, t2, t3)}
    refollowed = fans["oRefollowSync"]
    assert (refollowed.follow_count, refollowed.unfollow_count, refollowed.followed_at) == (2, 1, at[t3])
    assert refollowed.channel == "store_1" and refollowed.first_followed_at == at[t1]
    assert (refollowed.last_event_at, fans["oRefollowCb"].last_event_at) == (at[t1], at[t3])
    assert _fan_fields(refollowed, WHO | NO_ACTION_SEEN) == _fan_fields(
        fans["oRefollowCb"], WHO | NO_ACTION_SEEN
    )
    assert _periods(refollowed) == [
        dict(followed_at=at[t1], unfollowed_at=at[t2], channel="store_1", follow_source="callback",
             unfollow_source="callback"),
        dict(followed_at=at[t3], unfollowed_at=None, channel="store_2", follow_source="sync",
             unfollow_source=""),
    ]  # fmt: skip
    assert _periods(fans["oRefollowCb"], {"follow_source"}) == _periods(refollowed, {"follow_source"})

    left = fans["oLeftSync"]
    assert _fan_fields(left, WHO | UNFOLLOW_TIME_LOST) == _fan_fields(
        fans["oLeftCb"], WHO | UNFOLLOW_TIME_LOST
    )
    assert left.unfollowed_at == left.follow_state_at == job.finished_at
    assert [p["unfollow_source"] for p in _periods(left)] == ["reconciled"]
    lost_time = {"unfollowed_at", "unfollow_source"}
    assert _periods(left, lost_time) == _periods(fans["oLeftCb"], lost_time)

    new = fans["oNewSync"]
    assert _fan_fields(new, WHO | NO_ACTION_SEEN) == _fan_fields(fans["oNewCb"], WHO | NO_ACTION_SEEN)
    assert (new.followed_at, new.channel, new.subscribe_scene) == (at[t1], "store_1", "ADD_SCENE_QR_CODE")
    assert (new.last_event_at, fans["oNewCb"].last_event_at) == (None, at[t1])
    assert _periods(new, {"follow_source"}) == _periods(fans["oNewCb"], {"follow_source"})
    assert [p["follow_source"] for p in _periods(new)] == ["sync"]
