"""The WSGI fast path answers exactly as the Django view does."""

from __future__ import annotations

import io
from urllib.parse import urlencode

import pytest
from django.test import Client

from liucun.events.models import Event
from liucun.testing.factories import make_account
from liucun.testing.wechat_peer import WeChatPeer
from liucun.wsgi import application

pytestmark = pytest.mark.django_db


def _wsgi(method: str, path: str, query: dict[str, str], body: bytes) -> tuple[str, bytes]:
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": urlencode(query),
        "CONTENT_LENGTH": str(len(body)),
        "CONTENT_TYPE": "text/xml",
        "wsgi.input": io.BytesIO(body),
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "wsgi.url_scheme": "http",
        "REMOTE_ADDR": "127.0.0.1",
    }
    status: list[str] = []
    body_out = b"".join(application(environ, lambda s, h: status.append(s)))
    return status[0], body_out


def test_fast_path_and_view_agree(client: Client) -> None:
    account = make_account(mode="safe")
    peer = WeChatPeer(appid=account.appid, token=account.token, aes_key=account.encoding_aes_key, mode="safe")
    xml = (
        f"<xml><ToUserName><![CDATA[{account.original_id}]]></ToUserName><FromUserName><![CDATA[oF]]>"
        "</FromUserName><CreateTime>1700000000</CreateTime><MsgType><![CDATA[event]]></MsgType>"
        "<Event><![CDATA[subscribe]]></Event></xml>"
    )
    request = peer.sign(xml)
    status, body = _wsgi("POST", request.path, request.query, request.body)
    assert status == "200 OK"
    via_view = client.generic("POST", request.url, request.body, content_type="text/xml")
    assert peer.open_reply(body.decode()) == peer.open_reply(via_view.content.decode())
    assert Event.objects.count() == 1
    forged = dict(request.query, signature="1" * 40)
    assert _wsgi("POST", request.path, forged, request.body)[0] == "403 Forbidden"
    assert _wsgi("POST", "/wechat/wxffffffffffffffff/callback", request.query, request.body)[0].startswith(
        "404"
    )
    assert _wsgi("PUT", request.path, request.query, request.body)[0].startswith("405")
    assert _wsgi("POST", request.path, request.query, b"x" * 70000)[0].startswith("413")


def test_other_paths_go_to_django() -> None:
    status, body = _wsgi("GET", "/wechat/not-a-callback", {}, b"")
    assert status.startswith("404")
    assert b"unknown account" not in body  # Django's own 404, not the callback's
