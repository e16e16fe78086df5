"""A WeChat-like sender of callbacks for tests, built on wechatpy's crypto as an independent oracle.

Our own protocol code must never be used to produce what our own protocol code then checks.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from dataclasses import dataclass
from urllib.parse import urlencode

from wechatpy.crypto import WeChatCrypto


def _sha1_sorted(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


@dataclass
class SignedRequest:
    path: str
    query: dict[str, str]
    body: bytes

    @property
    def url(self) -> str:
        return f"{self.path}?{urlencode(self.query)}"


class WeChatPeer:
    def __init__(self, *, appid: str, token: str, aes_key: str | None, mode: str) -> None:
        self.appid = appid
        self.token = token
        self.mode = mode
        self.crypto = WeChatCrypto(token, aes_key, appid) if aes_key else None

    def sign(
        self, xml: str, *, openid: str = "", timestamp: str | None = None, nonce: str | None = None
    ) -> SignedRequest:
        timestamp = timestamp or str(int(time.time()))
        nonce = nonce or str(secrets.randbelow(10**10))
        query = {
            "signature": _sha1_sorted(self.token, timestamp, nonce),
            "timestamp": timestamp,
            "nonce": nonce,
        }
        if openid:
            query["openid"] = openid
        if self.mode == "plaintext":
            body = xml
        else:
            assert self.crypto is not None
            envelope = self.crypto.encrypt_message(xml, nonce, timestamp)
            encrypt = re.search(r"<Encrypt><!\[CDATA\[(.*?)\]\]></Encrypt>", envelope).group(1)  # type: ignore[union-attr]
            query["encrypt_type"] = "aes"
            query["msg_signature"] = _sha1_sorted(self.token, timestamp, nonce, encrypt)
            to_user = re.search(r"<ToUserName><!\[CDATA\[(.*?)\]\]>", xml)
            to_part = f"<ToUserName><![CDATA[{to_user.group(1)}]]></ToUserName>" if to_user else ""
            if self.mode == "compatible":
                # Compatible mode carries the plaintext fields beside the ciphertext.
                body = xml.replace("</xml>", f"<Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>")
            else:
                body = f"<xml>{to_part}<Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"
        return SignedRequest(path=f"/wechat/{self.appid}/callback", query=query, body=body.encode())

    def verification(self, echostr: str = "echo-12345") -> SignedRequest:
        timestamp, nonce = str(int(time.time())), "8675309"
        query = {
            "signature": _sha1_sorted(self.token, timestamp, nonce),
            "timestamp": timestamp,
            "nonce": nonce,
            "echostr": echostr,
        }
        return SignedRequest(path=f"/wechat/{self.appid}/callback", query=query, body=b"")

    def open_reply(self, body: str) -> str:
        """The plaintext of an answer: decrypted (and its signature checked) when it is encrypted."""
        if "<Encrypt>" not in body:
            return body
        assert self.crypto is not None
        signature = re.search(r"<MsgSignature><!\[CDATA\[(.*?)\]\]>", body).group(1)  # type: ignore[union-attr]
        timestamp = re.search(r"<TimeStamp>(.*?)</TimeStamp>", body).group(1)  # type: ignore[union-attr]
        nonce = re.search(r"<Nonce><!\[CDATA\[(.*?)\]\]>", body).group(1)  # type: ignore[union-attr]
        return self.crypto.decrypt_message(body, signature, timestamp, nonce)
