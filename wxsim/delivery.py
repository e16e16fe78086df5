"""Delivering callbacks to an account's message server the way WeChat does.

Signed always; encrypted in compatible and safe mode. WeChat waits 5 seconds for an answer and then
tries again with the identical request; the documentation says "three times" without saying whether
that counts the first attempt, so the number of retries is a setting (3 retries by default).
"""

from __future__ import annotations

import http.client
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

from wxsim.model import Account
from wxsim.protocol.aes import CallbackCipher, CipherError
from wxsim.protocol.signing import sorted_sha1
from wxsim.protocol.xmlbuild import encrypted_envelope

ANSWER_TIMEOUT = 5.0
RETRIES = 3
_local = threading.local()
_TAG = re.compile(r"<(\w+)>(?:<!\[CDATA\[(.*?)\]\]>|([^<]*))</\1>", re.S)


@dataclass
class DeliveryResult:
    attempts: int = 0
    status: int | None = None
    reply: str = ""  # the passive reply's plaintext ("" or "success" means none)
    error: str = ""
    latencies_ms: list[float] = field(default_factory=list)

    @property
    def delivered(self) -> bool:
        return self.status == 200

    def as_dict(self) -> dict[str, Any]:
        return {
            "attempts": self.attempts,
            "status": self.status,
            "reply": self.reply,
            "error": self.error,
            "latencies_ms": [round(x, 2) for x in self.latencies_ms],
        }


def signed_request(account: Account, xml: str, openid: str, timestamp: int) -> tuple[str, bytes]:
    nonce = str(secrets.randbelow(10**10))
    ts = str(timestamp)
    query = {
        "signature": sorted_sha1(account.token, ts, nonce),
        "timestamp": ts,
        "nonce": nonce,
        "openid": openid,
    }
    body = xml
    if account.mode != "plaintext":
        encrypt = CallbackCipher(account.encoding_aes_key, account.appid).seal(xml.encode())
        query["encrypt_type"] = "aes"
        query["msg_signature"] = sorted_sha1(account.token, ts, nonce, encrypt)
        if account.mode == "safe":
            body = encrypted_envelope(account.original_id, encrypt)
        else:
            body = xml.replace("</xml>", f"<Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>")
    return urlencode(query), body.encode()


def open_reply(account: Account, body: str) -> str:
    """The plaintext of a passive reply; an encrypted reply's signature is checked like WeChat does."""
    if "<Encrypt>" not in body:
        return body
    fields = {m.group(1): m.group(2) if m.group(2) is not None else m.group(3) for m in _TAG.finditer(body)}
    expected = sorted_sha1(
        account.token, fields.get("TimeStamp", ""), fields.get("Nonce", ""), fields.get("Encrypt", "")
    )
    if fields.get("MsgSignature") != expected:
        return "<invalid reply signature>"
    try:
        return CallbackCipher(account.encoding_aes_key, account.appid).open(fields["Encrypt"]).decode()
    except (CipherError, KeyError):
        return "<undecryptable reply>"


def deliver(
    account: Account,
    xml: str,
    openid: str,
    timestamp: int,
    *,
    retries: int = RETRIES,
    timeout: float = ANSWER_TIMEOUT,
) -> DeliveryResult:
    result = DeliveryResult()
    if not account.callback_url:
        result.error = "the account has no callback URL"
        return result
    query, body = signed_request(account, xml, openid, timestamp)
    url = urlsplit(account.callback_url)
    path = f"{url.path or '/'}?{query}"
    host, port = url.hostname or "127.0.0.1", url.port or 80
    for _ in range(retries + 1):
        result.attempts += 1
        started = time.perf_counter()
        conn = _connection(host, port, timeout)
        try:
            conn.request("POST", path, body, {"Content-Type": "text/xml"})
            response = conn.getresponse()
            text = response.read().decode("utf-8", "replace")
            result.status = response.status
        except (OSError, http.client.HTTPException) as exc:
            # A late or broken answer: drop the connection and try again with the identical request.
            _drop(host, port)
            result.error = f"{type(exc).__name__}: {exc}"
            result.status = None
            continue
        finally:
            result.latencies_ms.append((time.perf_counter() - started) * 1000)
        if response.status == 200:
            result.error = ""
            result.reply = open_reply(account, text) if text not in ("", "success") else text
            account.traffic.note_callback(timestamp, True, result.latencies_ms)
            return result
        result.error = f"HTTP {response.status}"
    # Ground truth of getinterfacesummary: one callback, failed, costing every attempt's wait.
    account.traffic.note_callback(timestamp, False, result.latencies_ms)
    return result


def _connection(host: str, port: int, timeout: float) -> http.client.HTTPConnection:
    """A keep-alive connection per thread and server, as WeChat's delivery fleet would hold."""
    pool: dict[tuple[str, int], http.client.HTTPConnection] = getattr(_local, "pool", None) or {}
    _local.pool = pool
    conn = pool.get((host, port))
    if conn is None or conn.timeout != timeout:
        conn = http.client.HTTPConnection(host, port, timeout=timeout)
        pool[(host, port)] = conn
    return conn


def _drop(host: str, port: int) -> None:
    pool = getattr(_local, "pool", {})
    conn = pool.pop((host, port), None)
    if conn is not None:
        conn.close()
