"""Channels in a real browser: name a scene the fans came through, make its QR code, see and download it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from liucun.channels.models import Channel, QrCode
from liucun.console.tests.conftest import add_fans, make_user, member
from liucun.console.tests.test_browser import browser, login  # noqa: F401 - the module's browser fixture
from liucun.staff.models import Role
from liucun.testing.factories import make_account_on_wxsim
from liucun.testing.live import running_server
from wxsim.control_client import WxsimControl, running_wxsim

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def stack() -> Iterator[dict[str, Any]]:
    with running_wxsim(seed=14) as wxsim_url, running_server() as base:
        yield {"wxsim": WxsimControl(wxsim_url), "base": base}


def test_operator_names_a_scene_and_downloads_its_code(browser: Any, stack: dict[str, Any]) -> None:  # noqa: F811
    account = make_account_on_wxsim(stack["wxsim"])
    add_fans(account, 6)
    member(make_user("operator"), account, Role.OPERATOR)
    page = login(browser, stack["base"], "operator")
    page.goto(f"{stack['base']}/a/{account.appid}/channels/")
    row = page.locator("#unnamed-scenes tr", has_text="store_0")
    row.locator("input[name=name]").fill("一号门店")
    row.locator("button[type=submit]").click()
    page.wait_for_url(f"**/a/{account.appid}/channels/*/")
    assert page.locator("#fans-ever").inner_text() == "2"
    assert page.locator("#fans-following").inner_text() == "1"

    page.check("#qrcode-create input[value=permanent]")
    page.click("#qrcode-create button[type=submit]")
    page.wait_for_selector("#qrcodes img")
    image = page.locator("#qrcodes img").first
    image.evaluate("img => img.decode()")  # resolves once the image is loaded and decoded
    assert image.evaluate("img => img.naturalWidth") == 168

    with page.expect_download() as download:
        page.locator("#qrcodes a[download]").first.click()
    code = QrCode.objects.get(channel=Channel.objects.get(account=account, scene="store_0"))
    assert download.value.suggested_filename == f"qrcode-store_0-permanent-{code.pk}.png"
    with open(download.value.path(), "rb") as saved:
        assert saved.read(8) == b"\x89PNG\r\n\x1a\n"
    page.context.close()
