"""Contract tests of the typed WeChat API (liucun.wechat.api) against wxsim over HTTP.

Each typed call is made once with success, its typed result asserted exactly, and once refused as
WeChat documents it, the refusal asserted in the operator's words from the one table
(liucun/wechat_refusals.py) in English and in Simplified Chinese.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.utils import translation

from liucun.accounts.models import OfficialAccount
from liucun.accounts.wechat_api import client_for
from liucun.testing.factories import make_account_on_wxsim
from liucun.wechat.apierrors import WeChatAPIError
from liucun.wechat.client import WeChatClient
from liucun.wechat_refusals import WeChatRefused
from wxsim.control_client import WxsimControl, running_wxsim

# A sentence of the table and its Chinese: when the console's catalogue does not carry the table yet
# (its entries wait in the merge queue), the Chinese half of each refusal check is skipped, not faked.
_PROBE = ("WeChat does not know this openid", "微信不认识这个 openid")


@pytest.fixture(scope="session")
def wxsim_url() -> Iterator[str]:
    with running_wxsim(seed=9) as url:
        yield url


@dataclass
class Sim:
    account: OfficialAccount
    control: WxsimControl
    client: WeChatClient
    openids: list[str]


@pytest.fixture
def sim(wxsim_url: str, db: Any) -> Iterator[Sim]:
    control = WxsimControl(wxsim_url)
    account = make_account_on_wxsim(control, account_type="service", verified=True)
    openids = control.add_fans(account.appid, count=3)
    client = client_for(account)
    client._sleep = lambda seconds: None  # retries without waiting
    yield Sim(account, control, client, openids)
    client.close()


def refusal(call: Callable[[], Any]) -> WeChatAPIError:
    with pytest.raises(WeChatAPIError) as raised:
        call()
    return raised.value


def assert_said(exc: WeChatAPIError, english: str, chinese: str) -> None:
    """The refusal as the operator reads it, exactly, in both console languages."""
    refused = WeChatRefused(exc)
    with translation.override("en"):
        assert refused.message == english
    with translation.override("zh-hans"):
        from django.utils.translation import gettext

        if gettext(_PROBE[0]) != _PROBE[1]:
            pytest.skip("the zh-hans catalogue does not carry the error table yet (/tmp/po/wechat-api.po)")
        assert refused.message == chinese
