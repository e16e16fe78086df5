"""wxsim over real HTTP, an account on it, and a fan whose window is open in wxsim and in Liucun."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from liucun.accounts.models import OfficialAccount
from liucun.fans.models import Fan
from liucun.testing.factories import make_account_on_wxsim
from liucun.testing.language import english
from wxsim.control_client import WxsimControl, running_wxsim


@pytest.fixture(autouse=True)
def _english(settings: Any) -> Iterator[None]:
    yield from english(settings)


@pytest.fixture(scope="module")
def wxsim_url() -> Iterator[str]:
    with running_wxsim(seed=19) as url:
        yield url


@pytest.fixture
def control(wxsim_url: str) -> WxsimControl:
    return WxsimControl(wxsim_url)


@dataclass
class Scene:
    control: WxsimControl
    account: OfficialAccount
    fan: Fan

    @property
    def openid(self) -> str:
        return self.fan.openid

    def received(self) -> list[dict[str, object]]:
        """What the fan received as customer-service messages, per wxsim's recorder."""
        entries = self.control.recorder(appid=self.account.appid, openid=self.openid, kind="customer_service")
        return [e["detail"] for e in entries]


def fan_writes(control: WxsimControl, account: OfficialAccount, fan: Fan, text: str = "在吗？") -> None:
    """The fan sends a message: wxsim opens its window; Liucun records it as the callback would."""
    done = control.act(account.appid, "text", fan.openid, content=text, drop_callback=True)
    fan.last_message_at = fan.last_interaction_at = datetime.fromtimestamp(done["time"], UTC)
    fan.save(update_fields=["last_message_at", "last_interaction_at"])


@pytest.fixture
def scene(control: WxsimControl) -> Scene:
    account = make_account_on_wxsim(control)
    (openid,) = control.add_fans(account.appid, count=1)
    fan = Fan.objects.create(account=account, openid=openid, is_following=True)
    fan_writes(control, account, fan)
    return Scene(control, account, fan)
