"""End to end: a fan follows through a channel's scene in wxsim, wxsim calls a real `liucun serve`, and the
channel counts the fan. The scene Liucun stores from EventKey must be the channel's scene, numeric or not."""

from __future__ import annotations

import time

import pytest

from liucun.channels import actions
from liucun.channels.queries import SceneCount, channels_page, fans_of_scene
from liucun.testing.factories import make_account_on_wxsim
from liucun.testing.live import running_server
from wxsim.control_client import WxsimControl, running_wxsim

pytestmark = pytest.mark.django_db(transaction=True)


def test_fans_who_follow_through_a_channel_count_under_it() -> None:
    env = {"LIUCUN_CALLBACK_MAX_SKEW_SECONDS": "3600"}
    with running_wxsim(seed=13) as wxsim_url, running_server(env=env) as liucun_url:
        control = WxsimControl(wxsim_url)
        control.clock(mode="stepped", set=int(time.time()))
        account = make_account_on_wxsim(control, callback_url=liucun_url + "/wechat/{appid}/callback")
        poster = actions.create_channel("test", account, "store_001", "门店海报")
        numeric = actions.create_channel("test", account, "100000", "最后一号")
        for channel, kind in ((poster, "temporary"), (numeric, "permanent")):
            actions.create_qrcode("test", account, channel.pk, actions.QrRequest(kind))
        for i in range(3):
            control.act(account.appid, "follow", f"oPoster{i:04d}", scene="store_001", reason="poster")
            control.clock(advance=30)
        control.act(account.appid, "follow", "oNumeric0001", scene="100000", reason="counter")
        control.act(account.appid, "unfollow", "oPoster0000", reason="left")
        control.act(account.appid, "follow", "oSearch0001", reason="search")

        assert fans_of_scene(account.pk, "store_001") == SceneCount("store_001", ever=3, following=2)
        page = channels_page(account.pk)
        # By name, in the database's collation: compared as a set so SQLite and PostgreSQL agree.
        assert {(r.channel.name, r.ever, r.following, r.qrcodes) for r in page.channels} == {
            ("最后一号", 1, 1, 1),
            ("门店海报", 3, 2, 1),
        }
        assert page.unnamed == []
