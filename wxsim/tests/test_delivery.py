"""Callback delivery: signed and encrypted like WeChat, retried like WeChat when the server is late."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from wechatpy.crypto import WeChatCrypto

from wxsim.control_client import WxsimControl
from wxsim.tests.conftest import new_account


class Sink:
    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.delays: list[float] = []
        self.reply = "success"


@pytest.fixture
def sink() -> Iterator[tuple[str, Sink]]:
    state = Sink()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            query = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}
            state.requests.append((query, body))
            if state.delays:
                time.sleep(state.delays.pop(0))
            data = state.reply.encode()
            try:
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except OSError:
                pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/callback", state
    server.shutdown()


def test_safe_mode_delivery_decrypts_with_wechatpy(control: WxsimControl, sink) -> None:
    url, state = sink
    account = new_account(control, callback_url=url, mode="safe")
    result = control.act(account["appid"], "follow", "oFan0001", scene="store_7", reason="test")
    assert result["delivery"]["status"] == 200 and result["delivery"]["attempts"] == 1
    query, body = state.requests[0]
    crypto = WeChatCrypto(account["token"], account["encoding_aes_key"], account["appid"])
    xml = crypto.decrypt_message(body.decode(), query["msg_signature"], query["timestamp"], query["nonce"])
    assert "<Event><![CDATA[subscribe]]></Event>" in xml and "qrscene_store_7" in xml
    assert control.truth(account["appid"])[-1] == {
        "time": 1_760_000_000,
        "appid": account["appid"],
        "openid": "oFan0001",
        "event": "follow",
        "scene": "store_7",
        "user_source": 30,
        "reason": "test",
    }


def test_a_late_answer_is_retried_with_the_identical_request(control: WxsimControl, sink) -> None:
    url, state = sink
    account = new_account(control, callback_url=url, mode="plaintext")
    control.act(account["appid"], "follow", "oFan0002")
    state.delays = [6.0]  # longer than WeChat's 5 seconds
    result = control.act(account["appid"], "text", "oFan0002", content="你好")
    assert result["delivery"]["attempts"] == 2 and result["delivery"]["status"] == 200
    assert state.requests[-1][1] == state.requests[-2][1]  # same body: same MsgId and CreateTime


def test_passive_replies_are_recorded(control: WxsimControl, sink) -> None:
    url, state = sink
    account = new_account(control, callback_url=url, mode="plaintext")
    state.reply = (
        "<xml><ToUserName><![CDATA[oFan0003]]></ToUserName><FromUserName><![CDATA[gh]]></FromUserName>"
        "<CreateTime>1</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[欢迎]]></Content>"
        "</xml>"
    )
    control.act(account["appid"], "follow", "oFan0003")
    replies = control.recorder(appid=account["appid"], kind="passive_reply")
    assert "欢迎" in replies[0]["detail"]["xml"]


def test_actions_are_validated(control: WxsimControl) -> None:
    account = new_account(control)
    with pytest.raises(Exception, match="must follow first"):
        control.act(account["appid"], "text", "oNobody", content="hi")
    with pytest.raises(Exception, match="unknown action"):
        control.act(account["appid"], "teleport", "oNobody")
