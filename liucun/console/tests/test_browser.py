"""The console in a real browser: Debian's chromium, headless, driven by Playwright.

The server is the production one (`liucun serve`), the worker is `liucun worker`, and the WeChat on the
other side is wxsim, all over real HTTP. Set LIUCUN_SCREENSHOTS=docs/screenshots to refresh the pictures
in the docs (make screenshots).
"""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model

from liucun.console.tests.conftest import PASSWORD, make_user, member
from liucun.fans.models import Fan
from liucun.readmodels import runner
from liucun.staff.models import Role
from liucun.testing.factories import make_account_on_wxsim
from liucun.testing.live import running_server, running_worker
from liucun.testing.suites import on_postgres
from wxsim.control_client import WxsimControl, running_wxsim

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Without these, chromium keeps trying to reach Google's services, which a closed network refuses.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
FOLLOWERS = 25_000  # three pages of user/get, so the progress bar has somewhere to go


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if on_postgres():
        # What a browser sees is the templates', scripts' and stylesheet's, driven once, on SQLite, to keep
        # `make test` inside its 15 minutes; every view, action and send behind these pages runs on
        # PostgreSQL through the test client and the wxsim tests.
        pytest.skip("browser tests run on SQLite only: the pages do not depend on the database")
    if not Path(CHROMIUM).exists():
        pytest.fail("chromium is missing: run scripts/ensure-browser (make test does)")
    # Playwright's sync API runs an event loop in this thread; the ORM calls in these tests are still
    # plain synchronous code, so Django's guard against async contexts does not apply.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def stack() -> Iterator[dict[str, Any]]:
    with running_wxsim(seed=21) as wxsim_url, running_server() as base, running_worker():
        yield {"wxsim": WxsimControl(wxsim_url), "base": base}


def shot(page: Any, name: str) -> None:
    folder = os.environ.get("LIUCUN_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=False)


def login(browser: Any, base: str, username: str) -> Any:
    context = browser.new_context(viewport={"width": 1366, "height": 800}, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{base}/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    return page


def test_console_end_to_end(browser: Any, stack: dict[str, Any], tmp_path: Path) -> None:
    control: WxsimControl = stack["wxsim"]
    base: str = stack["base"]
    account = make_account_on_wxsim(
        control, name="留存演示号", callback_url=base + "/wechat/{appid}/callback"
    )
    # Followers from before Liucun (a year ago), so the overview's 30 days show only what follows.
    control.add_fans(
        account.appid, count=FOLLOWERS, scene="store_01", subscribe_time=time.time() - 400 * 86400
    )
    member(make_user("yunying"), account, Role.ADMIN)

    # Log in: one account, so the console opens on its overview.
    page = login(browser, base, "yunying")
    page.wait_for_selector("text=近 30 天关注与取关")
    assert page.locator(".current-account").inner_text().startswith("留存演示号")

    # Sync with live progress: the row polls until the job is done.
    page.click("text=粉丝同步")
    page.click("#start-sync")
    row = page.locator("#sync-jobs tbody tr").first
    row.wait_for()
    assert row.get_attribute("data-status") in ("queued", "running", "done")
    shot(page, "sync-progress")
    # Over either way: a failed sync shows its error in the row, which the assertion then reports.
    page.wait_for_selector(
        "#sync-jobs tbody tr:is([data-status=done], [data-status=failed])", timeout=120_000
    )
    assert row.get_attribute("data-status") == "done", row.inner_text()
    assert f"{FOLLOWERS} / {FOLLOWERS}" in row.inner_text()
    assert Fan.objects.filter(account=account, is_following=True).count() == FOLLOWERS

    # A fan's timeline: what they did arrives through the callback; the welcome reply shows as sent.
    openid = "oBrowserTimeline01"
    control.act(account.appid, "follow", openid, scene="store_01")
    control.act(account.appid, "text", openid, content="请问门店几点开门？")
    control.act(account.appid, "click", openid, key="MENU_COUPON")
    page.goto(f"{base}/a/{account.appid}/fans/{openid}/")
    timeline = page.locator("#timeline")
    assert "请问门店几点开门？" in timeline.inner_text()
    assert "点击菜单" in timeline.inner_text() and "已回复" in timeline.inner_text()
    assert "开启" in page.locator("#window-status").inner_text()
    shot(page, "fan-timeline")

    # Bulk tagging: create a tag, tick three fans, tag them; WeChat (wxsim) has the tag on them.
    page.goto(f"{base}/a/{account.appid}/tags/")
    page.fill("input[name=name]", "高价值客户")
    page.click("text=创建")
    page.wait_for_selector("#tags >> text=高价值客户")
    page.goto(f"{base}/a/{account.appid}/fans/?following=1&ordering=openid")
    boxes = page.locator("input[name=openid]")
    ticked = [boxes.nth(i).get_attribute("value") for i in range(3)]
    for i in range(3):
        boxes.nth(i).check()
    page.select_option("#bulk-tag select[name=tag]", label="高价值客户")
    page.click("text=给所选打标签")
    page.wait_for_selector(".flash >> text=已更新 3 个粉丝")
    shot(page, "fans")
    from liucun.tags.models import Tag

    tag_id = Tag.objects.get(account=account, name="高价值客户").wechat_id
    tagged = {f["openid"] for f in control.fans(account.appid) if tag_id in f.get("tagid_list", [])}
    assert tagged == set(ticked)

    # CRM import with an error line: the dry run names the line and nothing is written.
    known = ticked[0]
    csv_path = tmp_path / "会员.csv"
    csv_path.write_bytes(
        f"openid,会员号,手机\n{known},M0001,13800138000\noNotAFanAtAll,M0002,13900139000\n".encode("gbk")
    )
    page.goto(f"{base}/a/{account.appid}/imports/")
    page.set_input_files("input[name=file]", str(csv_path))
    page.fill("textarea[name=columns]", "会员号=member_id\n手机=phone")
    page.click("text=校验文件（试运行）")
    page.wait_for_selector("#line-errors", timeout=30_000)
    errors = page.locator("#line-errors").inner_text()
    assert re.search(r"\b3\b", errors) and "oNotAFanAtAll" in errors
    shot(page, "import-errors")
    assert Fan.objects.get(account=account, openid=known).attributes.get("member_id") is None

    # Two weeks of fans arriving from three channels, some leaving, then the overview charts them.
    now = int(time.time())
    for day in range(14):
        for n in range(3 + day % 4):
            openid = f"oBrowserDay{day:02d}{n}"
            at = now - (14 - day) * 86400 + n * 600
            control.act(
                account.appid, "follow", openid, scene=("store_01", "giveaway_01", "event_2026")[n % 3], at=at
            )
            if n % 3 == 1:  # the giveaway crowd leaves the next day
                control.act(account.appid, "unfollow", openid, at=at + 86400)
    runner.run_all()  # the overview reads the read models, which the worker (no schedule here) leaves alone
    page.goto(f"{base}/a/{account.appid}/")
    page.wait_for_selector("#follow-chart canvas")
    page.wait_for_timeout(1500)  # let the charts' entry animation finish before the picture
    shot(page, "overview")

    # An outsider is refused, and sees nothing of the account.
    make_user("outsider")
    assert get_user_model().objects.filter(username="outsider").exists()
    stranger = login(browser, base, "outsider")
    stranger.wait_for_selector("text=您还没有任何公众号的角色")
    response = stranger.goto(f"{base}/a/{account.appid}/fans/")
    assert response is not None and response.status == 404
    assert "留存演示号" not in stranger.content()
