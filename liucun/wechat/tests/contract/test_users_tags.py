"""users (followers, profiles, remarks) and tags (tags, members, blacklist)."""

from __future__ import annotations

import pytest

from liucun.wechat.api import tags, users
from liucun.wechat.api.limits import LimitError, OpenidPage
from liucun.wechat.tests.contract.conftest import Sim, assert_said, refusal

pytestmark = pytest.mark.django_db


def test_followers_and_profiles(sim: Sim) -> None:
    wx = {f["openid"]: f for f in sim.control.fans(sim.account.appid)}
    assert users.followers(sim.client) == OpenidPage(sim.openids, next_openid=sim.openids[-1], total=3)
    assert users.followers(sim.client, sim.openids[-1]) == OpenidPage([], next_openid="", total=3)
    assert list(users.all_followers(sim.client)) == [sim.openids]
    expected = [{k: v for k, v in wx[o].items() if k != "blacklisted"} for o in sim.openids]
    assert users.batch_info(sim.client, sim.openids) == expected
    assert users.info(sim.client, sim.openids[0]) == expected[0]
    users.set_remark(sim.client, sim.openids[0], "老客户")
    assert users.info(sim.client, sim.openids[0])["remark"] == "老客户"


def test_profiles_refused(sim: Sim) -> None:
    unknown = refusal(lambda: users.info(sim.client, "oNotAFanOfThisAccount"))
    assert unknown.errcode == 40003
    assert_said(
        unknown,
        "WeChat refused: WeChat does not know this openid (errcode 40003).",
        "微信拒绝：微信不认识这个 openid (errcode 40003)。",
    )
    too_many = refusal(lambda: users.batch_info(sim.client, [f"o{i}" for i in range(101)]))
    assert isinstance(too_many, LimitError) and too_many.errcode == 40032
    sim.control.act(sim.account.appid, "unfollow", sim.openids[1])
    gone = refusal(lambda: users.set_remark(sim.client, sim.openids[1], "x"))
    assert gone.errcode == 43004
    assert_said(
        gone,
        "WeChat refused: the fan no longer follows the account (errcode 43004).",
        "微信拒绝：该粉丝已不再关注本公众号 (errcode 43004)。",
    )


def test_tags_members_and_blacklist(sim: Sim) -> None:
    made = tags.create(sim.client, "门店会员")
    assert made == tags.Tag(id=made.id, name="门店会员", count=0) and made.id > 2
    tags.tag_fans(sim.client, made.id, sim.openids[:2])
    assert tags.tags_of_fan(sim.client, sim.openids[0]) == [made.id]
    assert list(tags.all_members(sim.client, made.id)) == [sim.openids[:2]]
    tags.rename(sim.client, made.id, "金卡会员")
    assert tags.Tag(made.id, "金卡会员", 2) in tags.all_tags(sim.client)
    tags.untag_fans(sim.client, made.id, sim.openids[:1])
    assert tags.members(sim.client, made.id) == OpenidPage([sim.openids[1]], next_openid=sim.openids[1])
    tags.delete(sim.client, made.id)
    assert made.id not in [t.id for t in tags.all_tags(sim.client)]

    tags.add_to_blacklist(sim.client, sim.openids[1:])
    assert tags.blacklist(sim.client) == OpenidPage(sim.openids[1:], next_openid=sim.openids[2], total=2)
    tags.remove_from_blacklist(sim.client, sim.openids[2:])
    assert list(tags.whole_blacklist(sim.client)) == [[sim.openids[1]]]


def test_tags_refused(sim: Sim) -> None:
    tags.create(sim.client, "重复")
    twice = refusal(lambda: tags.create(sim.client, "重复"))
    assert twice.errcode == 45157
    assert_said(
        twice,
        "WeChat refused: a tag with this name already exists (errcode 45157).",
        "微信拒绝：已有同名标签 (errcode 45157)。",
    )
    long_name = refusal(lambda: tags.create(sim.client, "一二三四五六七八九十一"))
    assert isinstance(long_name, LimitError) and long_name.errcode == 45158
    system = refusal(lambda: tags.delete(sim.client, 2))
    assert isinstance(system, LimitError) and system.errcode == 45058
    assert_said(
        system,
        "WeChat refused: WeChat's own tags (0, 1, 2) cannot be changed (errcode 45058).",
        "微信拒绝：微信系统标签（0、1、2）不可修改 (errcode 45058)。",
    )
    too_many = refusal(lambda: tags.add_to_blacklist(sim.client, [f"o{i}" for i in range(21)]))
    assert isinstance(too_many, LimitError) and too_many.errcode == 40032
    assert [t.name for t in tags.all_tags(sim.client)] == ["星标组", "重复"]
