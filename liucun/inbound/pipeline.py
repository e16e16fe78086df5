"""A callback delivery from signature check to answer, independent of the web framework.

verify -> (decrypt) -> parse -> record exactly once -> (encrypt) answer. Every refusal is a typed
`Refusal` carrying the HTTP status and one log line; nothing is stored for a refused delivery.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

from django.conf import settings
from django.db import DatabaseError

from liucun.inbound.accounts_cache import CallbackAccount
from liucun.inbound.actions import record_delivery
from liucun.inbound.replay import Replayed, check_plaintext
from liucun.wechat import errors as protocol
from liucun.wechat.messages import parse_message
from liucun.wechat.replies import SUCCESS
from liucun.wechat.signature import verify_url_signature

log = logging.getLogger("liucun.callback")


@dataclass(frozen=True)
class Answer:
    status: int
    body: str
    content_type: str = "text/plain; charset=utf-8"


class Refusal(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def verify_get(account: CallbackAccount, query: Mapping[str, str]) -> Answer:
    try:
        verify_url_signature(
            account.token, query.get("timestamp", ""), query.get("nonce", ""), query.get("signature", "")
        )
    except protocol.SignatureError:
        raise Refusal(403, "bad URL signature on verification") from None
    return Answer(200, query.get("echostr", ""))


def _opened(account: CallbackAccount, query: Mapping[str, str], body: bytes) -> bytes:
    if not account.accepts_encrypted or account.crypto is None:
        raise Refusal(400, f"encrypted delivery but the account is in {account.encryption_mode} mode")
    try:
        return account.crypto.decrypt_callback(
            body,
            msg_signature=query.get("msg_signature", ""),
            timestamp=query.get("timestamp", ""),
            nonce=query.get("nonce", ""),
        )
    except protocol.SignatureError:
        raise Refusal(403, "bad or missing msg_signature") from None
    except protocol.ProtocolError as exc:
        raise Refusal(400, f"{type(exc).__name__}: {exc}") from None


def _plaintext(account: CallbackAccount, timestamp: str, nonce: str, body: bytes) -> bytes:
    if not account.accepts_plaintext:
        raise Refusal(400, "plaintext delivery but the account is in safe mode")
    try:
        check_plaintext(account.id, timestamp, nonce, body)
    except Replayed as exc:
        raise Refusal(403, str(exc)) from None
    return body


def handle_post(account: CallbackAccount, query: Mapping[str, str], body: bytes) -> Answer:
    timestamp = query.get("timestamp", "")
    nonce = query.get("nonce", "")
    try:
        verify_url_signature(account.token, timestamp, nonce, query.get("signature", ""))
    except protocol.SignatureError:
        raise Refusal(403, "bad or missing signature") from None

    encrypted = query.get("encrypt_type", "raw") == "aes"
    xml = _opened(account, query, body) if encrypted else _plaintext(account, timestamp, nonce, body)

    try:
        message = parse_message(xml)
    except protocol.ProtocolError as exc:
        raise Refusal(400, f"{type(exc).__name__}: {exc}") from None
    if message.to_user != account.original_id:
        raise Refusal(400, f"message is addressed to {message.to_user}, not to this account")

    try:
        outcome = record_delivery(account, message, timeout=settings.LIUCUN_CALLBACK_COMMIT_TIMEOUT)
    except (DatabaseError, TimeoutError) as exc:
        log.error("callback appid=%s could not be stored: %s", account.appid, type(exc).__name__)
        # WeChat retries a delivery that fails; the unique constraint keeps the retry exactly-once.
        raise Refusal(503, "storage unavailable") from None

    if not outcome.reply:
        return Answer(200, SUCCESS)
    if encrypted and account.crypto is not None:
        return Answer(200, account.crypto.encrypt_reply(outcome.reply), "application/xml; charset=utf-8")
    return Answer(200, outcome.reply, "application/xml; charset=utf-8")
