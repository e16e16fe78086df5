"""The inbox in a real browser (Debian's chromium, headless), with the production server, a worker and
wxsim over HTTP: a fan's question arrives through the callback and appears in the open inbox without a
reload; an agent answers with a canned reply's shortcut and wxsim's fan receives it; the same pages at
phone width (390 px) do not overflow sideways."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from liucun.console.tests.conftest import make_user, member
from liucun.console.tests.test_browser import browser, login, shot  # noqa: F401 - the shared browser fixture
from liucun.events.models import Event
from liucun.inbox.models import CannedReply, State
from liucun.readmodels.tasks import run_read_models
from liucun.staff.models import Role
from liucun.testing.factories import make_account_on_wxsim
from liucun.testing.live import running_server, running_worker
from wxsim.control_client import WxsimControl, running_wxsim

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HOURS = "您好！我们每天 9:00–21:00 在线。"
OVERFLOW = "() => document.documentElement.scrollWidth"


@pytest.fixture
def stack() -> Iterator[dict[str, Any]]:
    with running_wxsim(seed=22) as wxsim_url, running_server() as base, running_worker():
        yield {"wxsim": WxsimControl(wxsim_url), "base": base}


def _received(control: WxsimControl, appid: str, openid: str, deadline: float = 60.0) -> list[Any]:
    # The worker delivers on its own schedule: poll wxsim's recorder, bounded.
    give_up = time.monotonic() + deadline
    while time.monotonic() < give_up:
        got = control.recorder(appid=appid, openid=openid, kind="customer_service")
        if got:
            return [g["detail"] for g in got]
        time.sleep(0.5)
    return []


def test_an_agent_answers_in_the_inbox_and_the_phone_width_fits(browser: Any, stack: dict[str, Any]) -> None:  # noqa: F811
    control: WxsimControl = stack["wxsim"]
    base: str = stack["base"]
    account = make_account_on_wxsim(control, callback_url=base + "/wechat/{appid}/callback")
    member(make_user("客服小李"), account, Role.AGENT)
    CannedReply.objects.create(account=account, shortcut="hours", title="营业时间", text=HOURS)
    page = login(browser, base, "客服小李")
    page.goto(f"{base}/a/{account.appid}/messages/?view=all")
    assert page.locator("#inbox-list").inner_text().count("oBrowserInbox01") == 0

    openid = "oBrowserInbox01"
    control.act(account.appid, "follow", openid, scene="store_01")
    control.act(account.appid, "text", openid, content="营业时间是几点？")
    # The callback stored the message; the worker folds it into the read model as its schedule would.
    give_up = time.monotonic() + 30
    while not Event.objects.filter(account=account, openid=openid, kind="text").exists():
        assert time.monotonic() < give_up, "the callback never stored the fan's message"
        time.sleep(0.2)
    run_read_models.enqueue()
    # The list polls itself: the conversation shows up without a reload.
    row = page.locator(f"#inbox-list a[href$='/inbox/c/{openid}/']")
    row.wait_for(timeout=60_000)
    shot(page, "inbox-list")
    row.click()
    page.wait_for_selector("#thread >> text=营业时间是几点？")
    assert "48" in page.locator("#window").inner_text() or page.locator("#window.open").count() == 1
    page.click("#take")
    page.wait_for_selector("#assignee >> text=客服小李")
    page.type("#composer-text", "/hours ")
    assert page.input_value("#composer-text") == HOURS
    page.click("#send-reply")
    page.wait_for_selector("#conversation-state.state-waiting")
    assert _received(control, account.appid, openid) == [{"msgtype": "text", "text": {"content": HOURS}}]
    page.wait_for_selector(f"#thread >> text={HOURS}", timeout=30_000)
    shot(page, "inbox-conversation")
    conversation = account.conversations.get(openid=openid)
    assert (conversation.state, conversation.replies) == (State.WAITING, 1)

    # Phone width: the list and the conversation fit 390 px.
    phone = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN").new_page()
    phone.context.add_cookies(page.context.cookies())
    for path in (f"/a/{account.appid}/messages/?view=all", f"/a/{account.appid}/inbox/c/{openid}/"):
        phone.goto(base + path)
        phone.wait_for_selector("main h1")
        assert phone.evaluate(OVERFLOW) <= 390, path
        shot(phone, "inbox-phone-" + ("list" if "messages" in path else "conversation"))
    phone.set_viewport_size({"width": 390, "height": 844})
    assert phone.evaluate(OVERFLOW) <= 390
