"""An agent answers a fan from the fan page in a real browser (Debian's chromium, Playwright), with the
production server, a worker and wxsim delivering the fan's message over real HTTP."""

from __future__ import annotations

from typing import Any

import pytest

from liucun.console.tests.conftest import make_user, member
from liucun.console.tests.test_browser import browser, login, stack  # noqa: F401 - fixtures
from liucun.staff.models import Role
from liucun.testing.factories import make_account_on_wxsim
from wxsim.control_client import WxsimControl

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_agent_replies_from_the_fan_page_once(browser: Any, stack: dict[str, Any]) -> None:  # noqa: F811
    control: WxsimControl = stack["wxsim"]
    base: str = stack["base"]
    account = make_account_on_wxsim(control, callback_url=base + "/wechat/{appid}/callback")
    (openid,) = control.add_fans(account.appid, count=1)
    asked = control.act(account.appid, "text", openid, content="周六还能预约吗？")
    assert asked["delivery"]["status"] == 200, asked
    member(make_user("agent-li"), account, Role.AGENT)

    page = login(browser, base, "agent-li")
    page.goto(f"{base}/a/{account.appid}/fans/{openid}/")
    composer = page.locator("#outbound-composer")
    composer.wait_for()  # loaded by htmx after the page
    assert page.locator("#outbound-window").get_attribute("data-open") == "true"
    composer.locator("textarea[name=content]").fill("可以，周六上午十点有空位。")
    composer.locator("button[type=submit]").dblclick()
    page.locator("#outbound-outcome").wait_for()
    assert page.locator('#outbound-log tr[data-status="sent"]').count() == 1

    received = control.recorder(appid=account.appid, openid=openid, kind="customer_service")
    assert [r["detail"] for r in received] == [
        {"msgtype": "text", "text": {"content": "可以，周六上午十点有空位。"}}
    ]
    page.context.close()
