"""The outbound client and the shared token store, against wxsim over real HTTP with scripted faults."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
from django.db import connection

from liucun.accounts.models import AccessToken
from liucun.accounts.wechat_api import client_for
from liucun.testing.factories import make_account_on_wxsim
from liucun.testing.live import REPO, database_url_for_tests
from liucun.wechat.apierrors import (
    NotConnected,
    PermanentError,
    QuotaError,
    RetryableError,
    TokenError,
    WindowClosedError,
)
from wxsim.control_client import WxsimControl, running_wxsim

pytestmark = pytest.mark.django_db

USER_INFO = "/cgi-bin/user/info"
SEND = "/cgi-bin/message/custom/send"


@pytest.fixture(scope="module")
def wxsim_url() -> Iterator[str]:
    with running_wxsim(seed=5) as url:
        yield url


@pytest.fixture
def sim(wxsim_url: str):
    """A Liucun account pointing at wxsim, the same account in wxsim with one fan, and a client."""
    control = WxsimControl(wxsim_url)
    account = make_account_on_wxsim(control)
    (openid,) = control.add_fans(account.appid)
    client = client_for(account)
    client._sleep = lambda seconds: None  # retries without waiting
    return account, control, client, openid


def _issued(control: WxsimControl, appid: str) -> int:
    return next(
        a["tokens_issued"] for a in control._call("GET", "/wxsim/accounts")["accounts"] if a["appid"] == appid
    )


def _script(control: WxsimControl, appid: str, *entries: dict) -> None:
    control.faults(appid, script=list(entries))


def test_token_is_fetched_once_and_stored_encrypted(sim) -> None:
    account, control, client, openid = sim
    for _ in range(3):
        assert client.get(USER_INFO, {"openid": openid})["openid"] == openid
    client_for(account).get(USER_INFO, {"openid": openid})
    assert _issued(control, account.appid) == 1
    assert AccessToken.objects.get(account=account).fetch_count == 1
    with connection.cursor() as cursor:
        cursor.execute("SELECT token FROM accounts_accesstoken WHERE account_id = %s", [account.pk])
        stored = cursor.fetchone()[0]
        cursor.execute(
            "SELECT secret, token, encoding_aes_key FROM accounts_officialaccount WHERE id = %s", [account.pk]
        )
        sealed = cursor.fetchone()
    assert AccessToken.objects.get(account=account).token not in stored
    assert account.secret not in sealed[0] and account.token not in sealed[1]
    assert account.encoding_aes_key not in sealed[2]


@pytest.mark.parametrize("errcode", [40001, 40014, 42001])
def test_a_refused_token_is_refreshed_once_then_the_call_succeeds(sim, errcode: int) -> None:
    account, control, client, openid = sim
    client.get(USER_INFO, {"openid": openid})
    _script(control, account.appid, {"path": USER_INFO, "errcode": errcode})
    assert client.get(USER_INFO, {"openid": openid})["openid"] == openid
    assert _issued(control, account.appid) == 2


def test_token_refresh_is_bounded(sim) -> None:
    account, control, client, openid = sim
    _script(control, account.appid, *[{"path": USER_INFO, "errcode": 40001}] * 5)
    with pytest.raises(TokenError) as raised:
        client.get(USER_INFO, {"openid": openid})
    assert raised.value.errcode == 40001
    assert _issued(control, account.appid) == 2  # the first token and one refresh, no more


def test_other_errors_never_refresh_the_token(sim) -> None:
    account, control, client, _ = sim
    with pytest.raises(PermanentError) as raised:
        client.get(USER_INFO, {"openid": "oNotAFanOfThisAccount"})
    assert raised.value.errcode == 40003
    assert _issued(control, account.appid) == 1


def test_busy_is_retried_a_bounded_number_of_times(sim) -> None:
    account, control, client, openid = sim
    client.get(USER_INFO, {"openid": openid})
    _script(control, account.appid, {"path": USER_INFO, "errcode": -1})
    assert client.get(USER_INFO, {"openid": openid})["openid"] == openid
    _script(control, account.appid, *[{"path": USER_INFO, "errcode": -1}] * (client.max_retries + 1))
    with pytest.raises(RetryableError) as raised:
        client.get(USER_INFO, {"openid": openid})
    assert raised.value.errcode == -1
    assert client.get(USER_INFO, {"openid": openid})["openid"] == openid  # the script is used up


def test_server_errors_and_timeouts_are_retried(sim) -> None:
    account, control, client, openid = sim
    client.timeout = 0.3
    client.get(USER_INFO, {"openid": openid})
    _script(control, account.appid, {"path": USER_INFO, "status": 502}, {"path": USER_INFO, "sleep": 0.6})
    assert client.get(USER_INFO, {"openid": openid})["openid"] == openid


def test_a_timed_out_post_that_is_not_idempotent_is_not_repeated(sim) -> None:
    account, control, client, openid = sim
    client.timeout = 0.3
    control.act(account.appid, "text", openid, content="在吗")
    _script(control, account.appid, {"path": SEND, "sleep": 0.6})
    with pytest.raises(RetryableError, match="timed out"):
        client.post(SEND, {"touser": openid, "msgtype": "text", "text": {"content": "在的"}})
    time.sleep(0.6)  # the hung call completes on wxsim's side
    # WeChat received it once; the client did not repeat a send it could not know had failed.
    assert len(control.recorder(appid=account.appid, kind="customer_service")) == 1


def test_a_send_is_repeated_only_when_wechat_certainly_did_not_act_on_it(sim) -> None:
    account, control, client, openid = sim
    control.act(account.appid, "text", openid, content="在吗")
    body = {"touser": openid, "msgtype": "text", "text": {"content": "在的"}}
    # Busy (-1) means WeChat did nothing: repeated, delivered once.
    _script(control, account.appid, {"path": SEND, "errcode": -1})
    client.post(SEND, body)
    assert len(control.recorder(appid=account.appid, kind="customer_service")) == 1
    # A 502 from its gateway may follow a delivery: not repeated, the caller decides.
    _script(control, account.appid, {"path": SEND, "status": 502})
    with pytest.raises(RetryableError, match="HTTP 502") as raised:
        client.post(SEND, body)
    assert not raised.value.not_acted_on
    assert len(control.recorder(appid=account.appid, kind="customer_service")) == 1


def test_a_connection_never_made_is_retried_even_for_a_send(sim) -> None:
    _, _, client, openid = sim
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        client.base_url = f"http://127.0.0.1:{closed.getsockname()[1]}"  # bound, never listening
        waits: list[float] = []
        client._sleep = waits.append
        with pytest.raises(NotConnected):
            client.post(SEND, {"touser": openid, "msgtype": "text", "text": {"content": "在的"}})
    assert len(waits) == client.max_retries


@pytest.mark.parametrize(
    ("errcode", "error"),
    [(45009, QuotaError), (45028, QuotaError), (45015, WindowClosedError), (48001, PermanentError)],
)
def test_typed_errors(sim, errcode: int, error: type) -> None:
    account, control, client, openid = sim
    _script(control, account.appid, {"path": SEND, "errcode": errcode})
    with pytest.raises(error) as raised:
        client.post(SEND, {"touser": openid, "msgtype": "text", "text": {"content": "x"}})
    assert raised.value.errcode == errcode


def test_window_rules_come_back_typed(sim) -> None:
    account, control, client, openid = sim
    with pytest.raises(WindowClosedError):
        client.post(SEND, {"touser": openid, "msgtype": "text", "text": {"content": "您好"}})
    control.act(account.appid, "text", openid, content="请问营业时间")
    client.post(SEND, {"touser": openid, "msgtype": "text", "text": {"content": "早9点到晚9点"}})
    sent = control.recorder(appid=account.appid, kind="customer_service")
    assert sent[0]["detail"]["text"]["content"] == "早9点到晚9点"  # UTF-8 JSON, not \\u escapes (40033)


def test_falls_back_to_the_classic_token_endpoint(sim) -> None:
    account, control, client, openid = sim
    control.faults(account.appid, stable_token_missing=True)
    assert client.get(USER_INFO, {"openid": openid})["openid"] == openid
    assert _issued(control, account.appid) == 1


def test_secrets_never_reach_the_log(sim, caplog) -> None:
    account, control, client, openid = sim
    with caplog.at_level(logging.DEBUG):
        _script(control, account.appid, {"path": USER_INFO, "errcode": 40001})
        client.get(USER_INFO, {"openid": openid})
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert account.secret not in text
    assert AccessToken.objects.get(account=account).token not in text


def test_a_token_storm_costs_one_refresh(sim) -> None:
    account, control, client, openid = sim
    client.get(USER_INFO, {"openid": openid})
    control.faults(account.appid, token_storm=True)
    assert client.get(USER_INFO, {"openid": openid})["openid"] == openid  # refused once, refreshed, answered
    assert _issued(control, account.appid) == 2


def test_a_wrong_secret_is_a_token_error(sim) -> None:
    account, _, _, openid = sim
    account.secret = "not-the-secret"
    with pytest.raises(TokenError, match="40125"):
        client_for(account).get(USER_INFO, {"openid": openid})


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
def test_two_processes_refreshing_at_once_fetch_one_token(sim) -> None:
    account, control, _, _ = sim
    control.faults(account.appid, latency_ms=400)  # a slow WeChat widens the window for a race
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
