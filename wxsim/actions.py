"""What a simulated fan can do, as state changes plus the callback XML WeChat would send for it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from wxsim import kf
from wxsim.errors import WeChatError
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
        if action in MESSAGE_TYPES:
            head["msg_type"] = action
        ctx = _Ctx(world, account, fan, when, head, reason, {**detail, "_action": action})
        xml = _BUILDERS[action](ctx)
        if "msg_type" in head:  # a fan's message: ground truth of the datacube message statistics
            account.traffic.note_message(fan.openid, str(head["msg_type"]), when)
        return Act(account, fan, action, when, xml)


MESSAGE_TYPES = ("text", "image", "voice", "video", "shortvideo", "location", "link")


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
    if c.head["msg_type"] == "voice":
        recognition = d.get("recognition")  # only with speech recognition switched on (接收语音识别结果)
        return callback_xml(
            **c.head,
            MediaId=str(d.get("media_id", f"media{msg_id}")),
            Format=str(d.get("format", "amr")),
            MsgId=msg_id,
            Recognition=None if recognition is None else str(recognition),
        )
    if c.head["msg_type"] in ("video", "shortvideo"):
        return callback_xml(
            **c.head,
            MediaId=str(d.get("media_id", f"media{msg_id}")),
            ThumbMediaId=str(d.get("thumb_media_id", f"thumb{msg_id}")),
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


def _menu_event(c: _Ctx, event: str, **fields: Any) -> str:
    return callback_xml(
        **c.head, msg_type="event", Event=event, EventKey=str(c.detail.get("key", "")), **fields
    )


def _scancode(c: _Ctx) -> str:
    # Scan-code buttons open the short customer-service window like a click (客服消息: "点击自定义菜单（仅有
    # 点击推事件、扫码推事件、扫码推事件且弹出“消息接收中”提示框这3种菜单类型是会触发客服接口的）").
    c.fan.last_event_at = float(c.when)
    info = {
        "ScanType": str(c.detail.get("scan_type", "qrcode")),
        "ScanResult": str(c.detail.get("result", "")),
    }
    return _menu_event(c, str(c.detail["_action"]), ScanCodeInfo=info)


def _pictures(c: _Ctx) -> str:
    md5s = [str(m) for m in c.detail.get("md5s") or ["1b5f7c23b5bf75682a53e7b6d163e185"]]
    pictures = {"Count": len(md5s), "PicList": [{"PicMd5Sum": m} for m in md5s]}
    return _menu_event(c, str(c.detail["_action"]), SendPicsInfo=pictures)


def _location_select(c: _Ctx) -> str:
    d = c.detail
    info = {
        "Location_X": d.get("x", 31.23),
        "Location_Y": d.get("y", 121.47),
        "Scale": d.get("scale", 15),
        "Label": str(d.get("label", "")),
        "Poiname": str(d.get("poiname", "")),
    }
    return _menu_event(c, "location_select", SendLocationInfo=info)


def _view_miniprogram(c: _Ctx) -> str:
    # EventKey is the mini-program page path; MenuId names the menu when it is a conditional one.
    menu_id = c.detail.get("menu_id")
    return callback_xml(
        **c.head,
        msg_type="event",
        Event="view_miniprogram",
        EventKey=str(c.detail.get("pagepath", "")),
        MenuId=None if menu_id is None else str(menu_id),
    )


def _subscribe_change(c: _Ctx) -> str:
    """The fan switches a template off in 服务通知 settings: no more notifications until a new consent."""
    template = str(c.detail.get("template_id", ""))
    c.fan.consents[template] = 0
    item = {"TemplateId": template, "SubscribeStatusString": "reject"}
    return callback_xml(
        **c.head, msg_type="event", Event="subscribe_msg_change_event", SubscribeMsgChangeEvent={"List": item}
    )


def _kf(c: _Ctx) -> str:
    """An agent acts on this fan in the customer-service client: accepts them, hands them on, or closes."""
    action, name, now = str(c.detail["_action"]), str(c.detail.get("kf_account", "")), float(c.when)
    try:
        if action == "kf_accept":
            waiting = c.account.kf_waiting.get(c.fan.openid)
            if waiting is None:
                raise ActionError(f"fan {c.fan.openid} is not waiting for an agent")
            if waiting["kf_account"] and waiting["kf_account"] != name:
                raise ActionError(f"fan {c.fan.openid} waits for {waiting['kf_account']} only")
            kf.open_session(c.account, c.fan, name, now)
            return kf.event_xml(c.account, c.fan, c.when, "kf_create_session", KfAccount=name)
        if action == "kf_switch":
            previous = kf.switch_session(c.account, c.fan, name, now)
            return kf.event_xml(
                c.account, c.fan, c.when, "kf_switch_session", FromKfAccount=previous, ToKfAccount=name
            )
        session = kf.live_session(c.account, c.fan.openid, now)
        if session is None:
            raise ActionError(f"fan {c.fan.openid} has no open session")
        kf.close_session(c.account, c.fan, str(session["kf_account"]), now)
        return kf.event_xml(c.account, c.fan, c.when, "kf_close_session", KfAccount=session["kf_account"])
    except WeChatError as error:
        raise ActionError(f"{error.errcode} {error.errmsg}") from None


def _subscribe_consent(c: _Ctx) -> str:
    template = str(c.detail.get("template_id", ""))
    if template not in c.account.subscribe_templates:
        # The consent popup only ever shows the account's own templates (wx-open-subscribe).
        raise ActionError(f"template {template!r} is not one of {c.account.appid}'s subscription templates")
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
    "subscribe_msg_change": _subscribe_change,
    "voice": _message,
    "video": _message,
    "shortvideo": _message,
    "scancode_push": _scancode,
    "scancode_waitmsg": _scancode,
    "pic_sysphoto": _pictures,
    "pic_photo_or_album": _pictures,
    "pic_weixin": _pictures,
    "location_select": _location_select,
    "view_miniprogram": _view_miniprogram,
    "kf_accept": _kf,
    "kf_switch": _kf,
    "kf_close": _kf,
}
