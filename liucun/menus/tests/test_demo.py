"""The demo's menu: in step with what wxsim's demo fans tap, published once however often the demo starts."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from liucun.accounts.wechat_api import client_for
from liucun.menus import actions
from liucun.menus.demo import DEMO_DRAFT, DEMO_MENU, seed_demo
from liucun.menus.models import MenuDraft, PublishedMenu
from liucun.menus.spec import leaves
from liucun.testing.factories import make_account_on_wxsim
from wxsim.control_client import WxsimControl, running_wxsim
from wxsim.population.scenario import DEMO

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def wxsim_url() -> Iterator[str]:
    with running_wxsim(seed=15) as url:
        yield url


def test_the_menu_has_every_key_and_link_the_demo_fans_tap() -> None:
    buttons = [b for _pos, b in leaves(DEMO_MENU)]
    assert {b["key"] for b in buttons if b["type"] == "click"} == set(DEMO.menu_keys)
    assert {b["url"] for b in buttons if b["type"] == "view"} == set(DEMO.h5_urls)


def test_seeding_publishes_once_and_keeps_an_operators_later_menu(wxsim_url: str) -> None:
    account = make_account_on_wxsim(WxsimControl(wxsim_url))
    seed_demo(account)
    seed_demo(account)
    with client_for(account) as client:
        assert client.get("/cgi-bin/menu/get")["menu"]["button"] == DEMO_MENU
    assert MenuDraft.objects.filter(account=account, name=DEMO_DRAFT).count() == 1
    assert PublishedMenu.objects.filter(account=account).count() == 1
    # An operator publishes another menu; a fresh wxsim (menu deleted) gets that one back on the next start.
    mine = [{"type": "click", "name": "会员", "key": "MENU_POINTS"}]
    actions.publish("op", actions.create_draft("op", account, "我的", mine))
    with client_for(account) as client:
        client.get("/cgi-bin/menu/delete")
    seed_demo(account)
    with client_for(account) as client:
        assert client.get("/cgi-bin/menu/get")["menu"]["button"] == mine
