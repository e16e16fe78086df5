"""What WeChat's subscribe_scene values mean (user/info's 关注渠道来源), as the MP backend says them."""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

SUBSCRIBE_SCENES: dict[str, Promise] = {
    "ADD_SCENE_SEARCH": _("Account search"),
    "ADD_SCENE_ACCOUNT_MIGRATION": _("Account migration"),
    "ADD_SCENE_PROFILE_CARD": _("Shared profile card"),
    "ADD_SCENE_QR_CODE": _("Scanned a QR code"),
    "ADD_SCENE_PROFILE_LINK": _("Account name in an article"),
    "ADD_SCENE_PROFILE_ITEM": _("Article's top-right menu"),
    "ADD_SCENE_PAID": _("Followed after paying"),
    "ADD_SCENE_WECHAT_ADVERTISEMENT": _("WeChat advertising"),
    "ADD_SCENE_REPRINT": _("Reprinted by others"),
    "ADD_SCENE_LIVESTREAM": _("Channels live stream"),
    "ADD_SCENE_CHANNELS": _("WeChat Channels"),
    "ADD_SCENE_WXA": _("Mini program"),
    "ADD_SCENE_OTHERS": _("Other"),
}


def scene_label(value: str) -> str:
    """The meaning of a subscribe_scene; an unknown value (WeChat adds some) is shown as it comes."""
    label = SUBSCRIBE_SCENES.get(value)
    return str(label) if label is not None else value
