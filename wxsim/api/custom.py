"""Customer-service messages (客服消息) with the platform's window rules, and the typing indicator.

After a message from the fan: up to 5 messages within 48 hours. After a menu click, a follow or a QR
scan: up to 3 messages within 1 minute. Each new action from the fan opens a new window and resets the
count. Outside any window: 45015; over the count: 45047; a fan who refuses messages: 48002.
"""

from __future__ import annotations

from typing import Any

from wxsim import errors as e
from wxsim.api.routing import Request, api
from wxsim.errors import fail
from wxsim.model import Fan

MESSAGE_WINDOW = 48 * 3600
MESSAGE_WINDOW_COUNT = 5
EVENT_WINDOW = 60
EVENT_WINDOW_COUNT = 3
TYPING_WINDOW = 30
TYPING_HOLDS = 15  # 客服输入状态: "在输入状态中（持续15s），不可重复下发输入态"
MSG_TYPES = {
    "text",
    "image",
    "voice",
    "video",
    "music",
    "news",
    "mpnews",
    "mpnewsarticle",
    "msgmenu",
    "wxcard",
    "miniprogrampage",
}


def open_window(fan: Fan, now: float) -> tuple[float, int] | None:
    """(window start, allowed count) of the window open at `now`, if any; the newest action decides."""
    windows = []
    if fan.last_message_at is not None and now - fan.last_message_at <= MESSAGE_WINDOW:
        windows.append((fan.last_message_at, MESSAGE_WINDOW_COUNT))
    if fan.last_event_at is not None and now - fan.last_event_at <= EVENT_WINDOW:
        windows.append((fan.last_event_at, EVENT_WINDOW_COUNT))
    return max(windows) if windows else None


@api("POST", "/cgi-bin/message/custom/send")
def send(request: Request) -> dict[str, Any]:
    account = request.need_account()
    if not account.verified:
        raise fail(e.API_UNAUTHORIZED)
    body = request.json()
    msg_type = body.get("msgtype")
    if msg_type not in MSG_TYPES:
        raise fail(e.INVALID_MESSAGE_TYPE)
    if not isinstance(body.get(msg_type), dict):
        raise fail(e.PARSE_ERROR, f"the {msg_type} object")
    world = request.world
    now = world.clock.now()
    with world.lock:
        fan = world.fan(account, str(body.get("touser", "")))
        if not fan.following:
            raise fail(e.OUT_OF_WINDOW)
        if fan.refuses_messages:
            raise fail(e.USER_REFUSED)
        window = open_window(fan, now)
        if window is None:
            raise fail(e.OUT_OF_WINDOW)
        start, allowed = window
        if sum(1 for t in fan.cs_sent if t >= start) >= allowed:
            raise fail(e.CS_COUNT_LIMIT)
        fan.cs_sent = [t for t in fan.cs_sent if t >= now - MESSAGE_WINDOW] + [now]
        fan.typing_until = 0.0  # "在输入状态中，如果向用户下发消息，会同时取消输入状态"
    world.record(
        account.appid, fan.openid, "customer_service", {"msgtype": msg_type, msg_type: body[msg_type]}
    )
    return {"errcode": 0, "errmsg": "ok"}


@api("POST", "/cgi-bin/message/custom/typing")
def typing(request: Request) -> dict[str, Any]:
    account = request.need_account()
    body = request.json()
    command = body.get("command")
    if command not in ("Typing", "CancelTyping"):
        raise fail(e.INVALID_TYPING_COMMAND)
    now = request.world.clock.now()
    with request.world.lock:
        fan = request.world.fan(account, str(body.get("touser", "")))
        last = max(fan.last_message_at or 0, fan.last_event_at or 0)
        if not fan.following or now - last > TYPING_WINDOW:
            raise fail(e.TYPING_NEEDS_INTERACTION)
        if command == "CancelTyping":
            fan.typing_until = 0.0
        elif now < fan.typing_until:
            raise fail(e.ALREADY_TYPING)
        else:
            fan.typing_until = now + TYPING_HOLDS
    return {"errcode": 0, "errmsg": "ok"}
