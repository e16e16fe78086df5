"""After a wxsim scenario, Liucun's fans equal wxsim's ground truth: who follows, from which channel, with
which tags, including fans whose unfollow callbacks WeChat never delivered (found by follower sync)."""

from __future__ import annotations

import time

import pytest

from liucun.accounts.wechat_api import client_for
from liucun.fans.actions import start_follower_sync
from liucun.fans.models import Fan, SyncStatus
from liucun.fans.queries import FanFilter, fan_pages
from liucun.fans.sync import run_sync
from liucun.tags.models import FanTag, Tag
from liucun.testing.factories import make_account_on_wxsim
from liucun.testing.live import running_server
from wxsim.control_client import WxsimControl, running_wxsim

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

HISTORY_DAYS = 12
DROPPED = 7


def _wait_for_history(control: WxsimControl, appid: str) -> dict:
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        status = control.population(appid)
        if status["phase"] in ("stopped", "failed"):
            return status
        time.sleep(0.5)
    raise AssertionError(f"population still running: {status}")


def test_liucun_equals_ground_truth_after_a_scenario_with_lost_callbacks() -> None:
    from liucun.tags.actions import pull_tags

    with running_wxsim(seed=31) as wxsim_url, running_server() as liucun_url:
        control = WxsimControl(wxsim_url)
        account = make_account_on_wxsim(control, callback_url=liucun_url + "/wechat/{appid}/callback")
        control.start_population(
            account.appid,
            scenario="demo",
            seed=31,
            history_days=HISTORY_DAYS,
            history_start=int(time.time()) - HISTORY_DAYS * 86400,
        )
        status = _wait_for_history(control, account.appid)
        assert status["phase"] == "stopped" and status["failed_deliveries"] == 0, status

        following = [f["openid"] for f in control.fans(account.appid) if f["subscribe"]]
        assert len(following) > 50
        lost, left = following[:DROPPED], following[25]

        # Tags made in the WeChat backend, not in Liucun, and brought in by a pull.
        client = client_for(account)
        vip = client.post("/cgi-bin/tags/create", {"tag": {"name": "VIP"}})["tag"]["id"]
        store = client.post("/cgi-bin/tags/create", {"tag": {"name": "门店会员"}})["tag"]["id"]
        client.post("/cgi-bin/tags/members/batchtagging", {"openid_list": following[:30], "tagid": vip})
        client.post("/cgi-bin/tags/members/batchtagging", {"openid_list": following[20:45], "tagid": store})
        pull_tags("test", account)
        leaving = FanTag.objects.filter(fan__account=account, fan__openid__in=[*lost, left])
        assert leaving.count() == DROPPED + 2  # VIP for the lost, VIP and 门店会员 for the one who leaves

        # WeChat loses some unfollow callbacks: the fans leave, Liucun is never told. Another tagged fan
        # leaves with the callback delivered. WeChat clears the tags of both.
        for openid in lost:
            control.act(account.appid, "unfollow", openid, reason="lost callback", drop_callback=True)
        assert Fan.objects.filter(account=account, openid__in=lost, is_following=True).count() == DROPPED
        control.act(account.appid, "unfollow", left, reason="leaves")
        assert not Fan.objects.get(account=account, openid=left).is_following

        job = start_follower_sync("test", account)
        run_sync(job, client)
        job.refresh_from_db()
        assert job.status == SyncStatus.DONE and job.reconciled_unfollows == DROPPED
        client.close()

        truth = control.truth(account.appid)
        wx_fans = {f["openid"]: f for f in control.fans(account.appid)}
        ours = {f.openid: f for f in Fan.objects.filter(account=account)}
        followed_ever = {t["openid"] for t in truth if t["event"] == "follow"}
        assert set(ours) == followed_ever
        assert {o for o, f in ours.items() if f.is_following} == {
            o for o, f in wx_fans.items() if f["subscribe"]
        }
        first_scene: dict[str, str] = {}
        for t in sorted(truth, key=lambda t: t["time"]):
            if t["event"] == "follow":
                first_scene.setdefault(t["openid"], t["scene"])
        assert {o: f.channel for o, f in ours.items()} == first_scene
        ours_tags = {
            (ft.fan.openid, ft.tag.wechat_id)
            for ft in FanTag.objects.filter(fan__account=account).select_related("fan", "tag")
        }
        # Every fan, following or not: the unfollowed lost their tags in WeChat and therefore in Liucun.
        wx_tags = {(o, t) for o, f in wx_fans.items() for t in f.get("tagid_list", [])}
        assert ours_tags == wx_tags and len(wx_tags) == (30 - DROPPED - 1) + (25 - 1)
        # The fan list's count of a tag (read from the memberships alone) agrees with its pages.
        vip_tag = Tag.objects.get(account=account, wechat_id=vip)
        pages = fan_pages(account, FanFilter(following=True, tag=vip_tag.pk))
        assert pages.count() == len(pages[0:100]) == 30 - DROPPED - 1
