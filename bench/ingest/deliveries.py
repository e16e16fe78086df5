"""Distinct safe-mode callbacks for the benchmark, signed and encrypted with wechatpy's crypto.

The generator must not share code with what it measures, so it uses wechatpy (an independent
implementation) rather than liucun.wechat.
"""

from __future__ import annotations

import hashlib
import random
import re
from dataclasses import dataclass
from urllib.parse import urlencode

from wechatpy.crypto import WeChatCrypto


@dataclass(frozen=True)
class Delivery:
    key: str  # the dedupe key the server must store exactly once
    raw: bytes  # the whole HTTP/1.1 request


def _sha1(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def build(
    *,
    count: int,
    appid: str,
    token: str,
    aes_key: str,
    original_id: str,
    seed: int,
    base_time: int,
    fans: int = 20000,
) -> list[Delivery]:
    rng = random.Random(seed)
    crypto = WeChatCrypto(token, aes_key, appid)
    out = []
    for i in range(count):
        openid = f"oBench{seed:04d}{rng.randrange(fans):06d}"
        created = base_time + i  # unique per delivery, so every event has its own dedupe key
        roll = rng.random()
        head = (
            f"<xml><ToUserName><![CDATA[{original_id}]]></ToUserName>"
            f"<FromUserName><![CDATA[{openid}]]></FromUserName><CreateTime>{created}</CreateTime>"
        )
        if roll < 0.55:
            msg_id = seed * 10**12 + i
            xml = (
                f"{head}<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[请问第{i}号门店几点营业？]]>"
                f"</Content><MsgId>{msg_id}</MsgId></xml>"
            )
            key = f"msg:{msg_id}"
        elif roll < 0.75:
            xml = (
                f"{head}<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[subscribe]]></Event>"
                f"<EventKey><![CDATA[qrscene_store_{rng.randrange(40):03d}]]></EventKey>"
                f"<Ticket><![CDATA[gQH47joAAAAAAAAAASxodHRw{i}]]></Ticket></xml>"
            )
            key = f"evt:{openid}:{created}:subscribe"
        elif roll < 0.90:
            xml = (
                f"{head}<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[CLICK]]></Event>"
                f"<EventKey><![CDATA[MENU_{rng.randrange(9)}]]></EventKey></xml>"
            )
            key = f"evt:{openid}:{created}:CLICK"
        else:
            xml = (
                f"{head}<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[unsubscribe]]></Event>"
                f"<EventKey><![CDATA[]]></EventKey></xml>"
            )
            key = f"evt:{openid}:{created}:unsubscribe"
        timestamp, nonce = str(created), str(rng.randrange(10**9))
        envelope = crypto.encrypt_message(xml, nonce, timestamp)
        encrypt = re.search(r"<Encrypt><!\[CDATA\[(.*?)\]\]></Encrypt>", envelope).group(1)
        query = urlencode(
            {
                "signature": _sha1(token, timestamp, nonce),
                "timestamp": timestamp,
                "nonce": nonce,
                "openid": openid,
                "encrypt_type": "aes",
                "msg_signature": _sha1(token, timestamp, nonce, encrypt),
            }
        )
        body = (
            f"<xml><ToUserName><![CDATA[{original_id}]]></ToUserName>"
            f"<Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"
        ).encode()
        raw = (
            f"POST /wechat/{appid}/callback?{query} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Content-Type: text/xml\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode() + body
        out.append(Delivery(key=key, raw=raw))
    return out
