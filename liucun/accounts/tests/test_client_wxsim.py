"""Liucun's WeChat client against wxsim over real HTTP: shared token, token storms, faults, quotas."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from liucun.accounts.models import AccessToken
from liucun.accounts.wechat_api import client_for
from liucun.testing.factories import make_account
from liucun.testing.live import REPO, database_url_for_tests
from liucun.wechat.apierrors import QuotaError, RetryableError, TokenError
from wxsim.control_client import WxsimControl, running_wxsim

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def wxsim_url() -> Iterator[str]:
    with running_wxsim(seed=3) as url:
        yield url


@pytest.fixture
def pair(wxsim_url: str):
    """The same official account on both sides: in Liucun pointing at wxsim, and in wxsim."""
    account = make_account(api_base_url=wxsim_url)
    control = WxsimControl(wxsim_url)
    control.add_account(
        appid=account.appid,
        secret=account.secret,
        token=account.token,
        encoding_aes_key=account.encoding_aes_key,
        original_id=account.original_id,
    )
    return account, control


def _issued(control: WxsimControl, appid: str) -> int:
    return next(
        a["tokens_issued"] for a in control._call("GET", "/wxsim/accounts")["accounts"] if a["appid"] == appid
    )


def test_calls_share_one_token(pair) -> None:
    account, control = pair
    openids = control.add_fans(account.appid, count=3)
    client = client_for(account)
    assert client.get("/cgi-bin/user/get")["data"]["openid"] == openids
    client_for(account).get("/cgi-bin/user/info", {"openid": openids[0]})
    assert _issued(control, account.appid) == 1


def test_a_token_storm_costs_one_refresh(pair) -> None:
    account, control = pair
    client = client_for(account)
    client.get("/cgi-bin/user/get")
    control.faults(account.appid, token_storm=True)
    assert client.get("/cgi-bin/user/get")["total"] == 0  # refused once, refreshed once, answered
    assert _issued(control, account.appid) == 2


def test_busy_platform_is_retried_boundedly(pair) -> None:
    account, control = pair
    client = client_for(account)
    client._sleep = lambda seconds: None
    client.get("/cgi-bin/user/get")
    control.faults(account.appid, error_rate=1.0)
    with pytest.raises(RetryableError) as raised:
        client.get("/cgi-bin/user/get")
    assert raised.value.errcode == -1


def test_quota_exhaustion_is_a_clear_error(pair) -> None:
    account, control = pair
    client = client_for(account)
    control.faults(account.appid, quota_exhausted=["/cgi-bin/user/get"])
    with pytest.raises(QuotaError) as raised:
        client.get("/cgi-bin/user/get")
    assert raised.value.errcode == 45009
    assert "45009" in str(raised.value)


def test_wrong_secret_is_a_token_error(pair) -> None:
    account, _ = pair
    account.secret = "not-the-secret"
    with pytest.raises(TokenError, match="40125"):
        client_for(account).get("/cgi-bin/user/get")


_PROCESS = """
import sys, time, django
django.setup()
from liucun.accounts.models import OfficialAccount
from liucun.accounts.wechat_api import client_for
account = OfficialAccount.objects.get(appid=sys.argv[1])
time.sleep(max(0.0, float(sys.argv[2]) - time.time()))
print(client_for(account).tokens.get(), flush=True)
"""


@pytest.mark.django_db(transaction=True)
def test_two_processes_get_one_token_from_wxsim(pair) -> None:
    account, control = pair
    control.faults(account.appid, latency_ms=400)  # a slow WeChat widens the race
    env = dict(os.environ, DATABASE_URL=database_url_for_tests())
    start = time.time() + 2
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _PROCESS, account.appid, str(start)],
            env=env,
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=60) for p in procs]
    assert all(p.returncode == 0 for p in procs), [o[1] for o in outs]
    assert outs[0][0] == outs[1][0]
    assert _issued(control, account.appid) == 1
    assert AccessToken.objects.get(account=account).fetch_count == 1
