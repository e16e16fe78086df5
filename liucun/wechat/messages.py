"""Typed inbound messages and events, and parse_message(): the callback's single entry point.

Field names follow WeChat's documentation in snake case. Every object keeps the full parsed fields in
`raw` for the event store, so nothing WeChat sent is lost even where we do not model it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from liucun.wechat.errors import MalformedXML
from liucun.wechat.xmlparse import parse_xml_fields

QR_SCENE_PREFIX = "qrscene_"


@dataclass(frozen=True, slots=True)
class InboundMessage:
    to_user: str
    from_user: str
    create_time: int
    msg_type: str
    raw: Mapping[str, Any]

    @property
    def is_event(self) -> bool:
        return self.msg_type == "event"

    @property
    def kind(self) -> str:
        return self.msg_type

    @property
    def msg_id(self) -> int | None:
        return None

    @property
    def dedupe_key(self) -> str:
        if self.msg_id is not None:
            return f"msg:{self.msg_id}"
        return f"evt:{self.from_user}:{self.create_time}:{self.msg_type}"


@dataclass(frozen=True, slots=True)
class _Message(InboundMessage):
    message_id: int

    @property
    def msg_id(self) -> int | None:
        return self.message_id


@dataclass(frozen=True, slots=True)
class TextMessage(_Message):
    content: str


@dataclass(frozen=True, slots=True)
class ImageMessage(_Message):
    pic_url: str
    media_id: str


@dataclass(frozen=True, slots=True)
class VoiceMessage(_Message):
    media_id: str
    format: str
    recognition: str | None


@dataclass(frozen=True, slots=True)
class VideoMessage(_Message):
    media_id: str
    thumb_media_id: str


@dataclass(frozen=True, slots=True)
class ShortVideoMessage(_Message):
    media_id: str
    thumb_media_id: str


@dataclass(frozen=True, slots=True)
class LocationMessage(_Message):
    location_x: float
    location_y: float
    scale: int
    label: str


@dataclass(frozen=True, slots=True)
class LinkMessage(_Message):
    title: str
    description: str
    url: str


@dataclass(frozen=True, slots=True)
class UnknownMessage(InboundMessage):
    unknown_msg_id: int | None

    @property
    def kind(self) -> str:
        return f"unknown.{self.msg_type}"

    @property
    def msg_id(self) -> int | None:
        return self.unknown_msg_id


@dataclass(frozen=True, slots=True)
class Event(InboundMessage):
    event: str

    @property
    def kind(self) -> str:
        return f"event.{self.event.lower()}"

    @property
    def dedupe_key(self) -> str:
        return f"evt:{self.from_user}:{self.create_time}:{self.event}"


@dataclass(frozen=True, slots=True)
class SubscribeEvent(Event):
    event_key: str | None
    ticket: str | None

    @property
    def qr_scene(self) -> str | None:
        if self.event_key and self.event_key.startswith(QR_SCENE_PREFIX):
            return self.event_key[len(QR_SCENE_PREFIX) :] or None
        return None


@dataclass(frozen=True, slots=True)
class UnsubscribeEvent(Event):
    pass


@dataclass(frozen=True, slots=True)
class ScanEvent(Event):
    event_key: str
    ticket: str | None

    @property
    def qr_scene(self) -> str | None:
        return self.event_key or None


@dataclass(frozen=True, slots=True)
class LocationEvent(Event):
    latitude: float
    longitude: float
    precision: float


@dataclass(frozen=True, slots=True)
class ClickEvent(Event):
    event_key: str


@dataclass(frozen=True, slots=True)
class ViewEvent(Event):
    event_key: str
    menu_id: str | None


@dataclass(frozen=True, slots=True)
class ScanCodeEvent(Event):
    event_key: str
    scan_type: str
    scan_result: str


@dataclass(frozen=True, slots=True)
class PicEvent(Event):
    event_key: str
    count: int
    pic_md5_sums: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class LocationSelectEvent(Event):
    event_key: str
    location_x: float
    location_y: float
    scale: int
    label: str
    poiname: str


@dataclass(frozen=True, slots=True)
class ViewMiniprogramEvent(Event):
    event_key: str
    menu_id: str | None


@dataclass(frozen=True, slots=True)
class MassSendJobFinishEvent(Event):
    job_msg_id: int
    status: str
    total_count: int
    filter_count: int
    sent_count: int
    error_count: int
    copyright_check: Mapping[str, Any] | None

    @property
    def dedupe_key(self) -> str:
        # Two jobs can finish in the same second; the job's MsgID tells their reports apart.
        return f"evt:{self.from_user}:{self.create_time}:{self.event}:{self.job_msg_id}"


@dataclass(frozen=True, slots=True)
class TemplateSendJobFinishEvent(Event):
    job_msg_id: int
    status: str

    @property
    def dedupe_key(self) -> str:
        # Two jobs can finish in the same second; the job's MsgID tells their reports apart.
        return f"evt:{self.from_user}:{self.create_time}:{self.event}:{self.job_msg_id}"


@dataclass(frozen=True, slots=True)
class SubscribeMsgEvent(Event):
    """subscribe_msg_popup_event / subscribe_msg_change_event / subscribe_msg_sent_event."""

    items: tuple[Mapping[str, str], ...]


@dataclass(frozen=True, slots=True)
class PublishJobFinishEvent(Event):
    publish_id: str
    publish_status: int
    article_id: str | None
    article_detail: Mapping[str, Any] | None


@dataclass(frozen=True, slots=True)
class UnknownEvent(Event):
    pass


# Aliases matching the names used in documentation and by other modules.
ScanCodePushEvent = ScanCodeEvent
ScanCodeWaitMsgEvent = ScanCodeEvent
PicSysPhotoEvent = PicEvent
PicPhotoOrAlbumEvent = PicEvent
PicWeixinEvent = PicEvent
SubscribeMsgPopupEvent = SubscribeMsgEvent
SubscribeMsgChangeEvent = SubscribeMsgEvent
SubscribeMsgSentEvent = SubscribeMsgEvent


# --- field readers ---------------------------------------------------------------------------------


def _str(fields: Mapping[str, Any], name: str) -> str:
    value = fields.get(name)
    if not isinstance(value, str):
        raise MalformedXML(f"<{name}> is missing")
    return value


# An openid is 28 URL-safe base64 characters today; the bound is the column's. Anything else (a "/", an
# empty value, a newline) would be stored as a fan that no page can link to, so it is refused here.
_OPENID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def _openid(fields: Mapping[str, Any], name: str) -> str:
    value = _str(fields, name)
    if not _OPENID.fullmatch(value):
        raise MalformedXML(f"<{name}> is not an openid (1-64 letters, digits, '-' or '_')")
    return value


def _opt_str(fields: Mapping[str, Any], name: str) -> str | None:
    value = fields.get(name)
    return value if isinstance(value, str) and value != "" else None


def _int(fields: Mapping[str, Any], name: str) -> int:
    value = _str(fields, name).strip()
    try:
        return int(value)
    except ValueError:
        raise MalformedXML(f"<{name}> is not an integer") from None


def _float(fields: Mapping[str, Any], name: str) -> float:
    value = _str(fields, name).strip()
    try:
        return float(value)
    except ValueError:
        raise MalformedXML(f"<{name}> is not a number") from None


def _block(fields: Mapping[str, Any], name: str) -> dict[str, Any]:
    value = fields.get(name)
    return value if isinstance(value, dict) else {}


def _items(value: Any) -> list[Any]:
    if value is None or value == "":
        return []
    return value if isinstance(value, list) else [value]


# --- builders per type --------------------------------------------------------------------------------

_Common = dict[str, Any]
_MESSAGE_BUILDERS: dict[str, Callable[[_Common, Mapping[str, Any]], InboundMessage]] = {
    "text": lambda c, f: TextMessage(**c, message_id=_int(f, "MsgId"), content=_str(f, "Content")),
    "image": lambda c, f: ImageMessage(
        **c, message_id=_int(f, "MsgId"), pic_url=_str(f, "PicUrl"), media_id=_str(f, "MediaId")
    ),
    "voice": lambda c, f: VoiceMessage(
        **c,
        message_id=_int(f, "MsgId"),
        media_id=_str(f, "MediaId"),
        format=_str(f, "Format"),
        recognition=_opt_str(f, "Recognition"),
    ),
    "video": lambda c, f: VideoMessage(
        **c, message_id=_int(f, "MsgId"), media_id=_str(f, "MediaId"), thumb_media_id=_str(f, "ThumbMediaId")
    ),
    "shortvideo": lambda c, f: ShortVideoMessage(
        **c, message_id=_int(f, "MsgId"), media_id=_str(f, "MediaId"), thumb_media_id=_str(f, "ThumbMediaId")
    ),
    "location": lambda c, f: LocationMessage(
        **c,
        message_id=_int(f, "MsgId"),
        location_x=_float(f, "Location_X"),
        location_y=_float(f, "Location_Y"),
        scale=_int(f, "Scale"),
        label=f.get("Label") or "",
    ),
    "link": lambda c, f: LinkMessage(
        **c,
        message_id=_int(f, "MsgId"),
        title=_str(f, "Title"),
        description=f.get("Description") or "",
        url=_str(f, "Url"),
    ),
}


def _scan_code(c: _Common, f: Mapping[str, Any]) -> InboundMessage:
    info = _block(f, "ScanCodeInfo")
    return ScanCodeEvent(
        **c,
        event_key=f.get("EventKey") or "",
        scan_type=info.get("ScanType") or "",
        scan_result=info.get("ScanResult") or "",
    )


def _pics(c: _Common, f: Mapping[str, Any]) -> InboundMessage:
    info = _block(f, "SendPicsInfo")
    pic_list = info.get("PicList")
    items = _items(pic_list.get("item") if isinstance(pic_list, dict) else pic_list)
    sums = tuple(item.get("PicMd5Sum", "") if isinstance(item, dict) else "" for item in items)
    count_text = info.get("Count") or str(len(sums))
    try:
        count = int(count_text)
    except ValueError:
        raise MalformedXML("<Count> is not an integer") from None
    return PicEvent(**c, event_key=f.get("EventKey") or "", count=count, pic_md5_sums=sums)


def _location_select(c: _Common, f: Mapping[str, Any]) -> InboundMessage:
    info = _block(f, "SendLocationInfo")
    return LocationSelectEvent(
        **c,
        event_key=f.get("EventKey") or "",
        location_x=_float(info, "Location_X"),
        location_y=_float(info, "Location_Y"),
        scale=_int(info, "Scale"),
        label=info.get("Label") or "",
        poiname=info.get("Poiname") or "",
    )


def _subscribe_msg(c: _Common, f: Mapping[str, Any]) -> InboundMessage:
    block_name = {
        "subscribe_msg_popup_event": "SubscribeMsgPopupEvent",
        "subscribe_msg_change_event": "SubscribeMsgChangeEvent",
        "subscribe_msg_sent_event": "SubscribeMsgSentEvent",
    }[c["event"].lower()]
    block = f.get(block_name)
    raw_items = _items(block.get("List") if isinstance(block, dict) else block)
    items = tuple(item for item in raw_items if isinstance(item, dict))
    return SubscribeMsgEvent(**c, items=items)


def _publish(c: _Common, f: Mapping[str, Any]) -> InboundMessage:
    info = f.get("PublishEventInfo")
    if not isinstance(info, dict):
        raise MalformedXML("<PublishEventInfo> is missing")
    detail = info.get("article_detail")
    return PublishJobFinishEvent(
        **c,
        publish_id=_str(info, "publish_id"),
        publish_status=_int(info, "publish_status"),
        article_id=_opt_str(info, "article_id"),
        article_detail=detail if isinstance(detail, dict) else None,
    )


def _mass_finish(c: _Common, f: Mapping[str, Any]) -> InboundMessage:
    check = f.get("CopyrightCheckResult")
    return MassSendJobFinishEvent(
        **c,
        job_msg_id=_int(f, "MsgID"),
        status=_str(f, "Status"),
        total_count=_int(f, "TotalCount"),
        filter_count=_int(f, "FilterCount"),
        sent_count=_int(f, "SentCount"),
        error_count=_int(f, "ErrorCount"),
        copyright_check=check if isinstance(check, dict) else None,
    )


_EVENT_BUILDERS: dict[str, Callable[[_Common, Mapping[str, Any]], InboundMessage]] = {
    "subscribe": lambda c, f: SubscribeEvent(
        **c, event_key=_opt_str(f, "EventKey"), ticket=_opt_str(f, "Ticket")
    ),
    "unsubscribe": lambda c, f: UnsubscribeEvent(**c),
    "scan": lambda c, f: ScanEvent(**c, event_key=_str(f, "EventKey"), ticket=_opt_str(f, "Ticket")),
    "location": lambda c, f: LocationEvent(
        **c,
        latitude=_float(f, "Latitude"),
        longitude=_float(f, "Longitude"),
        precision=_float(f, "Precision"),
    ),
    "click": lambda c, f: ClickEvent(**c, event_key=_str(f, "EventKey")),
    "view": lambda c, f: ViewEvent(**c, event_key=_str(f, "EventKey"), menu_id=_opt_str(f, "MenuId")),
    "scancode_push": _scan_code,
    "scancode_waitmsg": _scan_code,
    "pic_sysphoto": _pics,
    "pic_photo_or_album": _pics,
    "pic_weixin": _pics,
    "location_select": _location_select,
    "view_miniprogram": lambda c, f: ViewMiniprogramEvent(
        **c, event_key=f.get("EventKey") or "", menu_id=_opt_str(f, "MenuId")
    ),
    "masssendjobfinish": _mass_finish,
    "templatesendjobfinish": lambda c, f: TemplateSendJobFinishEvent(
        **c, job_msg_id=_int(f, "MsgID"), status=_str(f, "Status")
    ),
    "subscribe_msg_popup_event": _subscribe_msg,
    "subscribe_msg_change_event": _subscribe_msg,
    "subscribe_msg_sent_event": _subscribe_msg,
    "publishjobfinish": _publish,
}


def message_from_fields(fields: Mapping[str, Any]) -> InboundMessage:
    common: _Common = {
        "to_user": _str(fields, "ToUserName"),
        "from_user": _openid(fields, "FromUserName"),
        "create_time": _int(fields, "CreateTime"),
        "msg_type": _str(fields, "MsgType").strip().lower(),
        "raw": fields,
    }
    msg_type = common["msg_type"]
    if msg_type == "event":
        common["event"] = _str(fields, "Event").strip()
        builder = _EVENT_BUILDERS.get(common["event"].lower())
        if builder is None:
            return UnknownEvent(**common)
        return builder(common, fields)
    builder = _MESSAGE_BUILDERS.get(msg_type)
    if builder is None:
        msg_id = fields.get("MsgId")
        unknown_id = int(msg_id) if isinstance(msg_id, str) and msg_id.strip().isdigit() else None
        return UnknownMessage(**common, unknown_msg_id=unknown_id)
    return builder(common, fields)


def parse_message(data: bytes | str) -> InboundMessage:
    return message_from_fields(parse_xml_fields(data))
