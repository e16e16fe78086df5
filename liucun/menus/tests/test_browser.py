"""The menu editor in a real browser: build a menu, see the preview, get a refusal that keeps the input,
publish to wxsim and see what WeChat has now."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from liucun.accounts.wechat_api import client_for
from liucun.console.tests.conftest import make_user, member
from liucun.console.tests.test_browser import browser, login  # noqa: F401 - the browser fixture
from liucun.menus.models import MenuDraft, PublishedMenu
from liucun.staff.models import Role
from liucun.testing.factories import make_account_on_wxsim
from liucun.testing.live import running_server
from wxsim.control_client import WxsimControl, running_wxsim

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MENU = [
    {"type": "click", "name": "积分查询", "key": "MENU_POINTS"},
    {
        "name": "服务",
        "sub_button": [
            {"type": "click", "name": "预约到店", "key": "MENU_BOOKING"},
            {"type": "view", "name": "官网", "url": "https://shop.example.cn/"},
        ],
    },
]


def shot(page: Any, name: str) -> None:
    folder = os.environ.get("LIUCUN_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def test_build_a_menu_in_the_editor_and_publish_it(browser: Any) -> None:  # noqa: F811
    with running_wxsim(seed=16) as wxsim_url:
        account = make_account_on_wxsim(WxsimControl(wxsim_url), name="菜单演示号")
        member(make_user("yunying"), account, Role.OPERATOR)
        with running_server(workers=1, threads=2) as base:
            page = login(browser, base, "yunying")
            page.on("dialog", lambda dialog: dialog.accept())  # the confirm before publishing
            page.goto(f"{base}/a/{account.appid}/menus/")
            page.fill("input[name=name]", "春季菜单")
            page.click("form[action$='/menus/create'] button[type=submit]")
            page.wait_for_selector("#menu-form")

            page.fill("input[name=b0-name]", "积分查询")
            page.select_option("select[name=b0-type]", "click")
            assert page.is_visible("input[name=b0-key]") and not page.is_visible("input[name=b0-url]")
            page.fill("input[name=b0-key]", "MENU_POINTS")
            page.fill("input[name=b1-name]", "服务")
            page.select_option("select[name=b1-type]", "group")
            page.fill("input[name=b1s0-name]", "预约到店")
            page.select_option("select[name=b1s0-type]", "click")
            page.fill("input[name=b1s0-key]", "MENU_BOOKING")
            page.fill("input[name=b1s1-name]", "官网")
            page.select_option("select[name=b1s1-type]", "view")
            assert page.is_visible("input[name=b1s1-url]") and not page.is_visible("input[name=b1s1-key]")
            page.fill("input[name=b1s1-url]", "https://shop.example.cn/")
            # Over WeChat's limit: 6 Chinese characters are 18 bytes, a bottom button has 16.
            page.fill("input[name=b2-name]", "六个汉字按钮")
            page.select_option("select[name=b2-type]", "click")
            page.fill("input[name=b2-key]", "MENU_X")
            page.click("#menu-save")
            problem = page.locator("#menu-problem").inner_text()
            assert problem.startswith("按钮 3 “六个汉字按钮”") or problem.startswith(
                "Button 3 “六个汉字按钮”"
            )
            assert page.input_value("input[name=b1s1-url]") == "https://shop.example.cn/"  # input kept
            assert MenuDraft.objects.get(account=account).buttons != MENU

            page.fill("input[name=b2-name]", "")
            page.select_option("select[name=b2-type]", "")  # its key, now hidden, is not read
            page.click("#menu-save")
            page.wait_for_selector(".phone-bar")
            assert MenuDraft.objects.get(account=account).buttons == MENU
            page.click(".menu-side .phone-group summary")  # the group opens its sub-buttons
            assert page.locator(".menu-side .phone-group li").all_inner_texts()[:2] == ["预约到店", "官网"]
            shot(page, "menu-editor")

            page.click("#menu-publish")
            page.wait_for_selector("#in-wechat .phone-bar")
            assert "积分查询" in page.locator("#in-wechat").inner_text()
            shot(page, "menus")

            # At phone width (390 px) the editor and the pages fit without scrolling sideways.
            page.set_viewport_size({"width": 390, "height": 844})
            draft = MenuDraft.objects.get(account=account)
            for path in (f"menus/drafts/{draft.pk}/", "menus/", "menus/history/", "menus/stats/"):
                page.goto(f"{base}/a/{account.appid}/{path}")
                assert page.evaluate("document.documentElement.scrollWidth") <= 390, path
            shot(page, "menu-stats-phone")
    published = PublishedMenu.objects.get(account=account)
    assert (published.ok, published.published_by, published.buttons) == (True, "yunying", MENU)


def test_the_published_menu_is_what_wechat_answers(browser: Any) -> None:  # noqa: F811
    # The same flow's WeChat side, read with the account's own client after a publish from the page.
    with running_wxsim(seed=17) as wxsim_url:
        account = make_account_on_wxsim(WxsimControl(wxsim_url), name="菜单演示号")
        member(make_user("yunying"), account, Role.OPERATOR)
        draft = MenuDraft.objects.create(account=account, name="春季菜单", buttons=MENU)
        with running_server(workers=1, threads=2) as base:
            page = login(browser, base, "yunying")
            page.on("dialog", lambda dialog: dialog.accept())
            page.goto(f"{base}/a/{account.appid}/menus/drafts/{draft.pk}/")
            page.click("#menu-publish")
            page.wait_for_selector("#in-wechat .phone-bar")
        with client_for(account) as client:
            assert client.get("/cgi-bin/menu/get")["menu"]["button"] == MENU
