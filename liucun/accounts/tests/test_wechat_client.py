"""The outbound client and the shared token store against a scripted WeChat stub over real HTTP."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from liucun.accounts.models import AccessToken
from liucun.accounts.wechat_api import client_for
from liucun.testing.factories import make_account
from liucun.testing.stub_wechat import running_stub
from liucun.wechat.apierrors import PermanentError, QuotaError, RetryableError, TokenError, WindowClosedError

pytestmark = pytest.mark.django_db


@pytest.fixture
def stub():
    with running_stub() as (url, state):
        yield url, state


def _client(url: str, **account_kwargs):
    account = make_account(api_base_url=url, **account_kwargs)
    client = client_for(account)
    client._sleep = lambda seconds: None  # retries without waiting
    return account, client


def test_token_is_fetched_once_and_shared(stub) -> None:
    url, state = stub
    account, client = _client(url)
    for _ in range(3):
        assert client.get("/cgi-bin/user/info", {"openid": "o1"})["openid"] == "o1"
    assert state.hits["/cgi-bin/stable_token"] == 1
    row = AccessToken.objects.get(account=account)
    assert row.fetch_count == 1
    # A second client (as another process would build) reuses the stored token.
    other = client_for(account)
    other.get("/cgi-bin/user/info", {"openid": "o2"})
    assert state.hits["/cgi-bin/stable_token"] == 1


def test_token_is_stored_encrypted(stub) -> None:
    url, _ = stub
    account, client = _client(url)
    client.get("/cgi-bin/user/info", {"openid": "o1"})
    with connection.cursor() as cursor:
        cursor.execute("SELECT token FROM accounts_accesstoken WHERE account_id = %s", [account.pk])
        stored = cursor.fetchone()[0]
        cursor.execute(
            "SELECT secret, token, encoding_aes_key FROM accounts_officialaccount WHERE id = %s", [account.pk]
        )
        secrets_row = cursor.fetchone()
    assert "ACCESS_TOKEN" not in stored
    assert account.secret not in secrets_row[0]
    assert account.token not in secrets_row[1]
    assert account.encoding_aes_key not in secrets_row[2]


@pytest.mark.parametrize("errcode", [40001, 40014, 42001])
def test_refused_token_is_refreshed_once_then_the_call_succeeds(stub, errcode: int) -> None:
    url, state = stub
    _, client = _client(url)
    client.get("/cgi-bin/user/info", {"openid": "o1"})
    state.script("/cgi-bin/user/info", {"errcode": errcode, "errmsg": "token refused"})
    assert client.get("/cgi-bin/user/info", {"openid": "o1"})["openid"] == "o1"
    assert state.hits["/cgi-bin/stable_token"] == 2


def test_token_refresh_is_bounded(stub) -> None:
    url, state = stub
    _, client = _client(url)
    state.script("/cgi-bin/user/info", *[{"errcode": 40001, "errmsg": "invalid credential"}] * 10)
    with pytest.raises(TokenError) as raised:
        client.get("/cgi-bin/user/info", {"openid": "o1"})
    assert raised.value.errcode == 40001
    assert state.hits["/cgi-bin/user/info"] == 2
    assert state.hits["/cgi-bin/stable_token"] == 2


def test_other_errors_never_refresh_the_token(stub) -> None:
    url, state = stub
    _, client = _client(url)
    client.get("/cgi-bin/user/info", {"openid": "o1"})
    state.script("/cgi-bin/user/info", {"errcode": 40003, "errmsg": "invalid openid"})
    with pytest.raises(PermanentError):
        client.get("/cgi-bin/user/info", {"openid": "bad"})
    assert state.hits["/cgi-bin/stable_token"] == 1


def test_busy_is_retried_a_bounded_number_of_times(stub) -> None:
    url, state = stub
    _, client = _client(url)
    state.script("/cgi-bin/user/info", {"errcode": -1, "errmsg": "system busy"})
    assert client.get("/cgi-bin/user/info", {"openid": "o1"})["openid"] == "o1"
    state.script("/cgi-bin/user/info", *[{"errcode": -1, "errmsg": "system busy"}] * 5)
    before = state.hits["/cgi-bin/user/info"]
    with pytest.raises(RetryableError):
        client.get("/cgi-bin/user/info", {"openid": "o1"})
    assert state.hits["/cgi-bin/user/info"] - before == 1 + client.max_retries


def test_server_errors_and_timeouts_are_retryable(stub) -> None:
    url, state = stub
    _, client = _client(url)
    client.timeout = 0.3
    client.get("/cgi-bin/user/info", {"openid": "o1"})
    state.script("/cgi-bin/user/info", 502, ("sleep", 0.6))
    assert client.get("/cgi-bin/user/info", {"openid": "o1"})["openid"] == "o1"
    assert state.hits["/cgi-bin/user/info"] == 4


def test_a_timed_out_post_that_is_not_idempotent_is_not_repeated(stub) -> None:
    url, state = stub
    _, client = _client(url)
    client.timeout = 0.3
    client.get("/cgi-bin/user/info", {"openid": "o1"})
    state.script("/cgi-bin/message/custom/send", ("sleep", 0.6))
    with pytest.raises(RetryableError):
        client.post(
            "/cgi-bin/message/custom/send", {"touser": "o1", "msgtype": "text", "text": {"content": "你好"}}
        )
    assert state.hits["/cgi-bin/message/custom/send"] == 1


@pytest.mark.parametrize(
    ("errcode", "error"),
    [(45009, QuotaError), (45028, QuotaError), (45015, WindowClosedError), (48001, PermanentError)],
)
def test_typed_errors(stub, errcode: int, error: type) -> None:
    url, state = stub
    _, client = _client(url)
    state.script("/cgi-bin/message/custom/send", {"errcode": errcode, "errmsg": "refused"})
    with pytest.raises(error) as raised:
        client.post("/cgi-bin/message/custom/send", {"touser": "o1"})
    assert raised.value.errcode == errcode
    assert state.hits["/cgi-bin/message/custom/send"] == 1


def test_json_bodies_are_utf8_not_escaped(stub) -> None:
    url, _ = stub
    _, client = _client(url)
    answer = client.post("/cgi-bin/message/custom/send", {"text": {"content": "欢迎光临"}})
    assert answer["echo"]["text"]["content"] == "欢迎光临"


def test_falls_back_to_classic_token_endpoint(stub) -> None:
    url, state = stub
    state.stable_token_missing = True
    _, client = _client(url)
    client.get("/cgi-bin/user/info", {"openid": "o1"})
    assert state.hits["/cgi-bin/token"] == 1


def test_secrets_never_reach_the_log(stub, caplog) -> None:
    url, state = stub
    account, client = _client(url)
    with caplog.at_level(logging.DEBUG):
        state.script("/cgi-bin/user/info", {"errcode": 40001, "errmsg": "invalid credential"})
        client.get("/cgi-bin/user/info", {"openid": "o1"})
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert account.secret not in text
    for token in state.tokens_issued:
        assert token not in text


_PROCESS_SCRIPT = """
import os, sys, time, django
django.setup()
from liucun.accounts.models import OfficialAccount
from liucun.accounts.wechat_api import client_for
account = OfficialAccount.objects.get(appid=sys.argv[1])
start = float(sys.argv[2])
time.sleep(max(0.0, start - time.time()))
print(client_for(account).tokens.get(), flush=True)
"""


@pytest.mark.django_db(transaction=True)
def test_two_processes_refreshing_at_once_fetch_one_token(stub, tmp_path: Path) -> None:
    url, state = stub
    state.fetch_delay = 0.5  # a slow WeChat widens the window in which both processes want a token
    account = make_account(api_base_url=url)
    settings_dict = connection.settings_dict
    if connection.vendor == "sqlite":
        database_url = f"sqlite:///{settings_dict['NAME']}"
    else:
        database_url = (
            f"postgres://{settings_dict['USER']}:{settings_dict['PASSWORD']}@"
            f"{settings_dict['HOST']}:{settings_dict['PORT']}/{settings_dict['NAME']}"
        )
    env = dict(os.environ, DATABASE_URL=database_url, DJANGO_SETTINGS_MODULE="liucun.settings")
    start = time.time() + 2.0
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", _PROCESS_SCRIPT, account.appid, str(start)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=60) for p in processes]
    for process, (_, err) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, err
    tokens = [out.strip() for out, _ in outputs]
    assert tokens[0] == tokens[1] == "ACCESS_TOKEN_1"
    assert state.hits["/cgi-bin/stable_token"] == 1
    assert AccessToken.objects.get(account=account).fetch_count == 1
    assert json.dumps(tokens)
