"""The one vocabulary of event kinds: every `Event.kind` Liucun stores, what it means and how it reads.

A kind string is decided by the protocol layer (`wechat/messages.py`: the MsgType for messages,
`event.<Event lowercased>` for events, `unknown.<MsgType>` for message types WeChat added later) or by
the code that writes a system fact (the follower sync). Everything that asks "is this a message?",
"does this open a window?" or "how do I show it?" asks here, so a new kind is added in one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class Category(StrEnum):
    MESSAGE = "message"  # something a fan wrote or sent: opens the 48-hour customer-service window
    WINDOW_EVENT = "window_event"  # a fan's tap that opens WeChat's short window (3 messages in a minute)
    FAN_ACTION = "fan_action"  # something a fan did on purpose that opens no window
    FOLLOW = "follow"  # subscribe / unsubscribe
    JOB_REPORT = "job_report"  # WeChat reporting on something the account sent or published
    AUTOMATIC = "automatic"  # sent by WeChat without the fan acting (periodic location reports)
    SYNC_FACT = "sync_fact"  # found by Liucun's follower sync, not sent by WeChat


class Window(StrEnum):
    NONE = ""
    CS_48H = "48h"
    SHORT = "short"


@dataclass(frozen=True)
class Kind:
    name: str
    category: Category
    label: str | Promise
    window: Window = Window.NONE


FOLLOW = "event.subscribe"
UNFOLLOW = "event.unsubscribe"
SCAN = "event.scan"
UNFOLLOW_RECONCILED = "sync.unfollow_reconciled"
UNKNOWN_MESSAGE_PREFIX = "unknown."

_KINDS = (
    Kind("text", Category.MESSAGE, _("Message"), Window.CS_48H),
    Kind("image", Category.MESSAGE, _("Image"), Window.CS_48H),
    Kind("voice", Category.MESSAGE, _("Voice"), Window.CS_48H),
    Kind("video", Category.MESSAGE, _("Video"), Window.CS_48H),
    Kind("shortvideo", Category.MESSAGE, _("Short video"), Window.CS_48H),
    Kind("location", Category.MESSAGE, _("Location"), Window.CS_48H),
    Kind("link", Category.MESSAGE, _("Link"), Window.CS_48H),
    Kind(FOLLOW, Category.FOLLOW, _("Follow"), Window.SHORT),
    Kind(UNFOLLOW, Category.FOLLOW, _("Unfollow")),
    Kind(SCAN, Category.WINDOW_EVENT, _("Scanned a code"), Window.SHORT),
    Kind("event.click", Category.WINDOW_EVENT, _("Menu click"), Window.SHORT),
    Kind("event.scancode_push", Category.WINDOW_EVENT, _("Scanned a code from the menu"), Window.SHORT),
    Kind("event.scancode_waitmsg", Category.WINDOW_EVENT, _("Scanned a code from the menu"), Window.SHORT),
    Kind("event.view", Category.FAN_ACTION, _("Opened a menu link")),
    Kind("event.pic_sysphoto", Category.FAN_ACTION, _("Sent photos from the menu")),
    Kind("event.pic_photo_or_album", Category.FAN_ACTION, _("Sent photos from the menu")),
    Kind("event.pic_weixin", Category.FAN_ACTION, _("Sent photos from the menu")),
    Kind("event.location_select", Category.FAN_ACTION, _("Sent a location from the menu")),
    Kind("event.view_miniprogram", Category.FAN_ACTION, _("Opened a mini program from the menu")),
    Kind("event.subscribe_msg_popup_event", Category.FAN_ACTION, _("Answered a subscription prompt")),
    Kind("event.subscribe_msg_change_event", Category.FAN_ACTION, _("Changed a message subscription")),
    Kind("event.location", Category.AUTOMATIC, _("Reported location")),
    Kind("event.templatesendjobfinish", Category.JOB_REPORT, _("Template message delivered")),
    Kind("event.masssendjobfinish", Category.JOB_REPORT, _("Mass message finished")),
    Kind("event.subscribe_msg_sent_event", Category.JOB_REPORT, _("Subscription message delivered")),
    Kind("event.publishjobfinish", Category.JOB_REPORT, _("Article published")),
    Kind(UNFOLLOW_RECONCILED, Category.SYNC_FACT, _("Unfollow found by sync")),
)
KINDS: dict[str, Kind] = {kind.name: kind for kind in _KINDS}


def _named(category: Category) -> frozenset[str]:
    return frozenset(kind.name for kind in _KINDS if kind.category == category)


MESSAGE_KINDS = _named(Category.MESSAGE)
# Tuple for the console's filter menu, in the order above.
MESSAGE_KINDS_ORDERED = tuple(kind.name for kind in _KINDS if kind.category == Category.MESSAGE)
WINDOW_EVENT_KINDS = frozenset(kind.name for kind in _KINDS if kind.window == Window.SHORT)
OTHER_FAN_ACTION_KINDS = _named(Category.FAN_ACTION)
JOB_REPORT_KINDS = _named(Category.JOB_REPORT)
# What changes whether a fan follows: the read models of follows and unfollows consume these.
LIFECYCLE_KINDS = frozenset({FOLLOW, UNFOLLOW, UNFOLLOW_RECONCILED})


def describe(kind: str) -> Kind | None:
    """The vocabulary entry of a stored kind; None for WeChat types Liucun does not know yet."""
    return KINDS.get(kind)


def label(kind: str) -> str:
    """How the console names a kind; an unknown one shows as WeChat spelled it."""
    entry = KINDS.get(kind)
    if entry is not None:
        return str(entry.label)
    return kind.removeprefix("event.")


def is_unknown_message(kind: str) -> bool:
    return kind.startswith(UNKNOWN_MESSAGE_PREFIX)
