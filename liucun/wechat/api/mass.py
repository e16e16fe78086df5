"""Mass sends (群发): to everyone, to a tag, to a list of openids; preview, status and delete.

`clientmsgid` makes a send idempotent: WeChat refuses the same id within 24 h (45065) and names the
first send's msg_id, which comes back here as that send (`repeated=True`) rather than as an error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from liucun.wechat.api.content import Card, Draft, Image, MassVideo, Message, Text, Voice, body
from liucun.wechat.api.limits import LimitError, max_bytes
from liucun.wechat.apierrors import WeChatAPIError
from liucun.wechat.client import WeChatClient

SEND_ALL = "/cgi-bin/message/mass/sendall"
SEND = "/cgi-bin/message/mass/send"
PREVIEW = "/cgi-bin/message/mass/preview"
GET = "/cgi-bin/message/mass/get"
DELETE = "/cgi-bin/message/mass/delete"

SENDABLE = (Text, Image, Voice, MassVideo, Draft, Card)
OPENIDS_MIN, OPENIDS_MAX = 2, 10000  # mass/send: 40130 under 2, 40032 over
CLIENTMSGID_MAX_BYTES = 64  # 45067 beyond
ALREADY_SENT = 45065


class MassStatus(StrEnum):
    SENT = "SEND_SUCCESS"
    SENDING = "SENDING"
    FAILED = "SEND_FAIL"
    DELETED = "DELETE"


@dataclass(frozen=True)
class MassSent:
    msg_id: int
    msg_data_id: int | None = None
    repeated: bool = False  # the clientmsgid was sent before: this is that first send


def _payload(path: str, message: Message, clientmsgid: str, ignore_reprint: bool) -> dict[str, Any]:
    if not isinstance(message, SENDABLE):
        raise LimitError(path, 40008, f"{message.msgtype} cannot be mass sent")
    payload = body(message)
    if isinstance(message, Draft):
        payload["send_ignore_reprint"] = 1 if ignore_reprint else 0
    if clientmsgid:
        payload["clientmsgid"] = max_bytes(path, "clientmsgid", clientmsgid, CLIENTMSGID_MAX_BYTES, 45067)
    return payload


def _sent(client: WeChatClient, path: str, payload: dict[str, Any]) -> MassSent:
    try:
        answer = client.post(path, payload)
    except WeChatAPIError as exc:
        first = _first_msg_id(exc) if exc.errcode == ALREADY_SENT else None
        if first is None:
            raise
        return MassSent(msg_id=first, repeated=True)
    data_id = answer.get("msg_data_id")
    return MassSent(int(answer["msg_id"]), int(data_id) if data_id is not None else None)


def _first_msg_id(exc: WeChatAPIError) -> int | None:
    if isinstance(exc.answer.get("msg_id"), int):
        return int(exc.answer["msg_id"])
    found = re.search(r"msg_id\D{0,3}(\d+)", exc.errmsg)
    return int(found.group(1)) if found else None


def send_to_all(
    client: WeChatClient, message: Message, *, clientmsgid: str = "", ignore_reprint: bool = False
) -> MassSent:
    """Everyone following (once a day; may wait for an admin's confirmation, 89503)."""
    payload = _payload(SEND_ALL, message, clientmsgid, ignore_reprint)
    return _sent(client, SEND_ALL, {"filter": {"is_to_all": True}, **payload})


def send_to_tag(
    client: WeChatClient,
    tag_id: int,
    message: Message,
    *,
    clientmsgid: str = "",
    ignore_reprint: bool = False,
) -> MassSent:
    payload = _payload(SEND_ALL, message, clientmsgid, ignore_reprint)
    return _sent(client, SEND_ALL, {"filter": {"is_to_all": False, "tag_id": tag_id}, **payload})


def send_to_openids(
    client: WeChatClient,
    openids: list[str],
    message: Message,
    *,
    clientmsgid: str = "",
    ignore_reprint: bool = False,
) -> MassSent:
    """2 to 10,000 followers (verified service accounts)."""
    if len(openids) < OPENIDS_MIN:
        raise LimitError(SEND, 40130, f"mass/send needs at least {OPENIDS_MIN} openids")
    if len(openids) > OPENIDS_MAX:
        raise LimitError(SEND, 40032, f"mass/send takes at most {OPENIDS_MAX} openids")
    payload = _payload(SEND, message, clientmsgid, ignore_reprint)
    return _sent(client, SEND, {"touser": list(openids), **payload})


def preview(client: WeChatClient, openid: str, message: Message) -> None:
    """The message to one follower, as the mass send would show it (no quota used)."""
    client.post(PREVIEW, {"touser": openid, **_payload(PREVIEW, message, "", False)})


def status(client: WeChatClient, msg_id: int) -> MassStatus:
    answer = client.post(GET, {"msg_id": msg_id}, idempotent=True)
    return MassStatus(str(answer["msg_status"]))


def delete(client: WeChatClient, msg_id: int, article_idx: int = 0) -> None:
    """Delete a sent mass message (0: every article of it; n: the n-th article)."""
    client.post(DELETE, {"msg_id": msg_id, "article_idx": article_idx}, idempotent=True)
