"""Follower sync against wxsim: pages, checkpoints, and reconciliation both ways."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from liucun.accounts.wechat_api import client_for
from liucun.events.models import Event
from liucun.fans.actions import SyncAlreadyRunning, start_follower_sync
from liucun.fans.models import Fan, FollowPeriod, SyncJob, SyncStatus
from liucun.fans.sync import run_sync
from liucun.staff.models import AuditEntry
from liucun.testing.factories import make_account_on_wxsim
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
