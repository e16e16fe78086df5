"""What a simulated fan can do, as state changes plus the callback XML WeChat would send for it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from wxsim.model import Account, Fan
from wxsim.protocol.xmlbuild import callback_xml
from wxsim.world import World


class ActionError(ValueError):
    pass


@dataclass(frozen=True)
class Act:
    account: Account
    fan: Fan
    action: str
    at: int
    xml: str


def apply_action(
    world: World,
    appid: str,
    action: str,
    openid: str | None = None,
    *,
    at: float | None = None,
    reason: str = "",
    **detail: Any,
) -> Act:
    """Change the world as `action` would and return the callback WeChat sends for it."""
    if action not in _BUILDERS:
        raise ActionError(f"unknown action {action!r}; one of {', '.join(_BUILDERS)}")
    with world.lock:
        account = world.account(appid)
        when = int(at if at is not None else world.clock.now())
        fan = account.fans.get(openid) if openid else None
        if fan is None:
            if action != "follow":
                raise ActionError(f"no fan {openid!r} on {appid}; a new fan must follow first")
            fan = world.add_fan(appid, openid=openid, following=False)
        if action != "follow" and not fan.following:
            raise ActionError(f"fan {fan.openid} does not follow {appid}")
        head: dict[str, Any] = {"to_user": account.original_id, "from_user": fan.openid, "create_time": when}
        if action in ("text", "image", "location", "link"):
            head["msg_type"] = action
        xml = _BUILDERS[action](_Ctx(world, account, fan, when, head, reason, detail))
        return Act(account, fan, action, when, xml)


@dataclass(frozen=True)
class _Ctx:
    world: World
    account: Account
    fan: Fan
    when: int
    head: dict[str, Any]
    reason: str
    detail: dict[str, Any]


def _follow(c: _Ctx) -> str:
    if c.fan.following:
        raise ActionError(f"fan {c.fan.openid} already follows {c.account.appid}")
    scene = str(c.detail.get("scene") or "")
    c.world._follow(c.account, c.fan, c.when, scene, c.reason or "followed")
    c.fan.last_event_at = float(c.when)  # a follow opens the short customer-service window
    if not scene:
        return callback_xml(**c.head, msg_type="event", Event="subscribe", EventKey="")
    ticket = f"gQ{abs(hash((c.account.appid, scene))) % 10**12:012d}"
    return callback_xml(
        **c.head, msg_type="event", Event="subscribe", EventKey=f"qrscene_{scene}", Ticket=ticket
    )


def _unfollow(c: _Ctx) -> str:
    c.world._unfollow(c.account, c.fan, c.when, c.reason or "unfollowed")
    return callback_xml(**c.head, msg_type="event", Event="unsubscribe", EventKey="")


def _scan(c: _Ctx) -> str:
    c.fan.last_event_at = float(c.when)
    return callback_xml(
        **c.head,
        msg_type="event",
        Event="SCAN",
        EventKey=str(c.detail.get("scene") or ""),
        Ticket=f"gQ{c.when}",
    )


def _click(c: _Ctx) -> str:
    c.fan.last_event_at = float(c.when)
    return callback_xml(**c.head, msg_type="event", Event="CLICK", EventKey=str(c.detail.get("key", "")))


def _view(c: _Ctx) -> str:
    return callback_xml(**c.head, msg_type="event", Event="VIEW", EventKey=str(c.detail.get("url", "")))


def _report_location(c: _Ctx) -> str:
    d = c.detail
    return callback_xml(
        **c.head,
        msg_type="event",
        Event="LOCATION",
        Latitude=d.get("latitude", 31.23),
        Longitude=d.get("longitude", 121.47),
        Precision=d.get("precision", 65.0),
    )


def _message(c: _Ctx) -> str:
    c.fan.last_message_at = float(c.when)  # a message opens the 48-hour customer-service window
    d, msg_id = c.detail, c.world.new_msg_id()
    if c.head["msg_type"] == "text":
        return callback_xml(**c.head, Content=str(d.get("content", "")), MsgId=msg_id)
    if c.head["msg_type"] == "image":
        return callback_xml(
            **c.head,
            PicUrl=str(d.get("pic_url", "http://mmbiz.qpic.cn/x")),
            MediaId=str(d.get("media_id", f"media{msg_id}")),
            MsgId=msg_id,
        )
    if c.head["msg_type"] == "location":
        return callback_xml(
            **c.head,
            Location_X=d.get("x", 31.23),
            Location_Y=d.get("y", 121.47),
            Scale=d.get("scale", 15),
            Label=str(d.get("label", "")),
            MsgId=msg_id,
        )
    return callback_xml(
        **c.head,
        Title=str(d.get("title", "")),
        Description=str(d.get("description", "")),
        Url=str(d.get("url", "")),
        MsgId=msg_id,
    )


def _subscribe_consent(c: _Ctx) -> str:
    template = str(c.detail.get("template_id", ""))
    accept = bool(c.detail.get("accept", True))
    if accept:
        c.fan.consents[template] = c.fan.consents.get(template, 0) + 1
    item = {
        "TemplateId": template,
        "SubscribeStatusString": "accept" if accept else "reject",
        "PopupScene": 0,
    }
    return callback_xml(
        **c.head, msg_type="event", Event="subscribe_msg_popup_event", SubscribeMsgPopupEvent={"List": item}
    )


_BUILDERS = {
    "follow": _follow,
    "unfollow": _unfollow,
    "scan": _scan,
    "click": _click,
    "view": _view,
    "report_location": _report_location,
    "text": _message,
    "image": _message,
    "location": _message,
    "link": _message,
    "subscribe_consent": _subscribe_consent,
}
