"""Acceptance over real HTTP: `liucun serve` (gunicorn) answering a WeChat-like client in every mode."""

from __future__ import annotations

import concurrent.futures

import httpx
import pytest

from liucun.events.models import Event
from liucun.fans.models import Fan
from liucun.testing.factories import make_account
from liucun.testing.live import running_server
from liucun.testing.wechat_peer import WeChatPeer

pytestmark = pytest.mark.django_db(transaction=True)


def _subscribe(gh: str, openid: str, t: int, scene: str) -> str:
    return (
        f"<xml><ToUserName><![CDATA[{gh}]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{t}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
        f"<Event><![CDATA[subscribe]]></Event><EventKey><![CDATA[qrscene_{scene}]]></EventKey></xml>"
    )


def _text(gh: str, openid: str, msg_id: int) -> str:
    return (
        f"<xml><ToUserName><![CDATA[{gh}]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>1700000500</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[几点开门？]]></Content><MsgId>{msg_id}</MsgId></xml>"
    )


def test_every_mode_over_real_http() -> None:
    accounts = {mode: make_account(mode=mode) for mode in ("plaintext", "compatible", "safe")}
    with running_server() as base, httpx.Client(base_url=base, timeout=10) as http:
        for mode, account in accounts.items():
            peer = WeChatPeer(
                appid=account.appid, token=account.token, aes_key=account.encoding_aes_key, mode=mode
            )
            verify = peer.verification("hello-" + mode)
            assert http.get(verify.path, params=verify.query).text == "hello-" + mode
            request = peer.sign(_subscribe(account.original_id, "oLive", 1700000000, "store_1"))
            answers = []
            for _ in range(4):
                response = http.post(request.path, params=request.query, content=request.body)
                assert response.status_code == 200
                answers.append(peer.open_reply(response.text))
            assert len(set(answers)) == 1 and account.welcome_text in answers[0]
            forged = dict(request.query, signature="0" * 40)
            assert http.post(request.path, params=forged, content=request.body).status_code == 403
            assert Event.objects.filter(account=account).count() == 1
            fan = Fan.objects.get(account=account, openid="oLive")
            assert fan.is_following and fan.channel == "store_1"


def test_concurrent_deliveries_and_retries_are_stored_exactly_once() -> None:
    account = make_account(mode="safe")
    peer = WeChatPeer(appid=account.appid, token=account.token, aes_key=account.encoding_aes_key, mode="safe")
    requests = [peer.sign(_text(account.original_id, f"oFan{i % 37}", 9_000_000 + i)) for i in range(300)]
    # Every delivery is sent twice, concurrently, as WeChat does when an answer is late.
    work = requests + requests
    with running_server(workers=2, threads=8) as base, httpx.Client(base_url=base, timeout=10) as http:

        def post(request):
            return http.post(request.path, params=request.query, content=request.body).status_code

        with concurrent.futures.ThreadPoolExecutor(max_workers=16) as pool:
            statuses = list(pool.map(post, work))
    assert statuses.count(200) == len(work)
    assert Event.objects.filter(account=account).count() == 300
    assert Fan.objects.filter(account=account).count() == 37
