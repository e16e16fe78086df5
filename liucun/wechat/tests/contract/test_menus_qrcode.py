"""menus (default, conditional, trymatch) and qrcode (temporary, permanent, the image)."""

from __future__ import annotations

import httpx
import pytest

from liucun.wechat.api import menus, qrcode, tags
from liucun.wechat.api.limits import LimitError
from liucun.wechat.api.menus import Button, MatchRule
from liucun.wechat.tests.contract.conftest import Sim, assert_said, refusal

pytestmark = pytest.mark.django_db

DEFAULT = [
    Button("积分", type="click", key="MENU_POINTS"),
    Button(
        "服务",
        sub_buttons=[
            Button("预约", type="view", url="https://example.com/book"),
            Button("扫码", type="scancode_push", key="SCAN"),
        ],
    ),
]
VIP = [Button("会员专享", type="click", key="VIP")]


def test_default_and_conditional_menus(sim: Sim) -> None:
    menus.create(sim.client, DEFAULT)
    assert menus.current(sim.client) == menus.Menus(DEFAULT, [])
    vip = tags.create(sim.client, "VIP")
    tags.tag_fans(sim.client, vip.id, sim.openids[:1])
    menu_id = menus.add_conditional(sim.client, VIP, MatchRule(tag_id=vip.id))
    assert menus.current(sim.client) == menus.Menus(
        DEFAULT, [menus.ConditionalMenu(menu_id, VIP, MatchRule(tag_id=vip.id))]
    )
    assert menus.try_match(sim.client, sim.openids[0]) == VIP
    assert menus.try_match(sim.client, sim.openids[1]) == DEFAULT
    menus.delete_conditional(sim.client, menu_id)
    assert menus.try_match(sim.client, sim.openids[0]) == DEFAULT
    menus.delete(sim.client)
    assert refusal(lambda: menus.current(sim.client)).errcode == 46003


def test_menus_refused(sim: Sim) -> None:
    no_default = refusal(lambda: menus.add_conditional(sim.client, VIP, MatchRule(client_platform_type=1)))
    assert no_default.errcode == 65303
    assert_said(
        no_default,
        "WeChat refused: a conditional menu needs a default menu first (errcode 65303).",
        "微信拒绝：创建个性化菜单前须先有默认菜单 (errcode 65303)。",
    )
    four = refusal(
        lambda: menus.create(sim.client, [Button(f"b{i}", type="click", key="k") for i in range(4)])
    )
    assert isinstance(four, LimitError) and four.errcode == 40016
    long_name = refusal(lambda: menus.create(sim.client, [Button("一二三四五六", type="click", key="k")]))
    assert isinstance(long_name, LimitError) and long_name.errcode == 40018
    assert_said(
        long_name,
        "WeChat refused: a menu button name is too long (16 bytes at the top, 60 in a group)"
        " (errcode 40018).",
        "微信拒绝：菜单按钮名称过长（一级 16 字节，子菜单 60 字节） (errcode 40018)。",
    )


def test_qr_codes(sim: Sim) -> None:
    temporary = qrcode.temporary(sim.client, 7, expire_seconds=600)
    assert temporary == qrcode.QrCode(temporary.ticket, temporary.url, 600)
    assert temporary.ticket.startswith("gQ") and temporary.url.startswith("http://weixin.qq.com/q/")
    forever = qrcode.permanent(sim.client, "store_001")
    assert forever.expire_seconds is None and forever.ticket != temporary.ticket
    image = httpx.get(qrcode.image_url(forever.ticket, host=sim.control.base_url))
    assert image.status_code == 200 and image.content.startswith(b"\x89PNG\r\n\x1a\n")
    assert qrcode.image_url("gQ a/b") == "https://mp.weixin.qq.com/cgi-bin/showqrcode?ticket=gQ%20a%2Fb"


def test_qr_codes_refused(sim: Sim) -> None:
    out_of_range = refusal(lambda: qrcode.permanent(sim.client, 100001))
    assert isinstance(out_of_range, LimitError) and out_of_range.errcode == 40097
    assert_said(
        out_of_range,
        "WeChat refused: a value is out of WeChat's range (QR scene, lifetime or similar) (errcode 40097).",
        "微信拒绝：参数超出微信允许的范围（二维码场景值、有效期等） (errcode 40097)。",
    )
    assert isinstance(refusal(lambda: qrcode.temporary(sim.client, "x" * 65)), LimitError)
    assert isinstance(refusal(lambda: qrcode.temporary(sim.client, 1, expire_seconds=2592001)), LimitError)
