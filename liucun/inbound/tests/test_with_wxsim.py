"""A scenario end to end: wxsim's fans act, wxsim delivers to a real `liucun serve`, Liucun stores it all.

Every follow and unfollow in wxsim's ground truth must appear in Liucun's event store exactly once, and
wxsim's recorder must show the welcome reply Liucun answered with.
"""

from __future__ import annotations

import time
from collections import Counter

import pytest

from liucun.events.models import Event
from liucun.fans.models import Fan
from liucun.testing.factories import make_account_on_wxsim
from liucun.testing.live import running_server
from wxsim.control_client import WxsimControl, running_wxsim

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("mode", ["plaintext", "compatible", "safe"])
def test_scenario_through_wxsim(mode: str) -> None:
    # The stepped clock starts now and runs up to ten minutes ahead of real time, so plaintext mode's
    # timestamp check (5 minutes by default) is widened to an hour rather than turned off.
    env = {"LIUCUN_CALLBACK_MAX_SKEW_SECONDS": "3600"}
    with running_wxsim(seed=11) as wxsim_url, running_server(env=env) as liucun_url:
        control = WxsimControl(wxsim_url)
        control.clock(mode="stepped", set=int(time.time()))
        account = make_account_on_wxsim(
            control,
            mode=mode,
            welcome_text="欢迎关注留存演示号！",
            callback_url=liucun_url + "/wechat/{appid}/callback",
        )
        fans = [f"oScenario{mode[:4]}{i:04d}" for i in range(12)]
        for i, openid in enumerate(fans):
            control.act(account.appid, "follow", openid, scene=f"store_{i % 3}", reason="store poster")
            control.clock(advance=30)
            control.act(account.appid, "text", openid, content="营业时间？")
            if i % 4 == 0:
                control.act(account.appid, "click", openid, key="MENU_POINTS")
            if i % 3 == 0:
                control.clock(advance=60)
                control.act(account.appid, "unfollow", openid, reason="giveaway collected")
        control.act(account.appid, "follow", fans[0], reason="came back")

        truth = control.truth(account.appid)
        stored = Counter(
            (e.openid, e.kind.removeprefix("event."), int(e.wechat_time.timestamp()))
            for e in Event.objects.filter(account=account, kind__in=["event.subscribe", "event.unsubscribe"])
        )
        expected = Counter(
            (t["openid"], "subscribe" if t["event"] == "follow" else "unsubscribe", t["time"]) for t in truth
        )
        assert stored == expected
        assert all(count == 1 for count in stored.values())
        following = {f["openid"] for f in control.fans(account.appid) if f["subscribe"]}
        assert (
            set(Fan.objects.filter(account=account, is_following=True).values_list("openid", flat=True))
            == following
        )
        assert Fan.objects.get(account=account, openid=fans[1]).channel == "store_1"
        replies = control.recorder(appid=account.appid, kind="passive_reply")
        assert len(replies) == len(expected) - sum(1 for t in truth if t["event"] == "unfollow")
        assert all("欢迎关注留存演示号！" in r["detail"]["xml"] for r in replies)
