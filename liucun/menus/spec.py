"""What a menu may hold, checked before anything is saved or sent, with the offending button named.

WeChat's own limits (liucun.wechat.api.menus: 3 top buttons of at most 5 sub-buttons, names of 16 / 60
bytes, keys of 128 bytes, URLs of 1024 bytes) and the fields each button type needs. A menu is stored in
WeChat's JSON shape; `checked()` returns the clean form, so what is stored is what would be sent.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from liucun.refusals import Refused, Text
from liucun.wechat.api import menus as wx

# The types the editor offers, in its order, with the fields each needs (miniprogram: the URL opens on
# clients without mini programs). media_id is WeChat's older type: read back and kept, never offered.
TYPE_FIELDS: dict[str, tuple[str, ...]] = {
    "click": ("key",),
    "view": ("url",),
    "miniprogram": ("url", "appid", "pagepath"),
    "scancode_push": ("key",),
    "scancode_waitmsg": ("key",),
    "pic_sysphoto": ("key",),
    "pic_photo_or_album": ("key",),
    "pic_weixin": ("key",),
    "location_select": ("key",),
    "article_id": ("article_id",),
    "article_view_limited": ("article_id",),
}
KEPT_TYPES: dict[str, tuple[str, ...]] = {**TYPE_FIELDS, "media_id": ("media_id",)}
VALUE_FIELDS = ("key", "url", "appid", "pagepath", "article_id", "media_id")
FIELD_BYTES = {"key": wx.KEY_BYTES, "url": wx.URL_BYTES, "appid": 32, "pagepath": 1024, "article_id": 128,
               "media_id": 128}  # fmt: skip
TYPE_LABELS: dict[str, Text] = {
    "click": _("Click (sends a key)"),
    "view": _("Open a web page"),
    "miniprogram": _("Open a mini program"),
    "scancode_push": _("Scan a code"),
    "scancode_waitmsg": _("Scan a code and wait for a reply"),
    "pic_sysphoto": _("Take a photo"),
    "pic_photo_or_album": _("Photo or album"),
    "pic_weixin": _("WeChat album"),
    "location_select": _("Send a location"),
    "article_id": _("Published article"),
    "article_view_limited": _("Published article (view only)"),
    "media_id": _("Permanent material (old type)"),
}
FIELD_LABELS: dict[str, Text] = {
    "name": _("name"),
    "key": _("key"),
    "url": _("URL"),
    "appid": _("mini program AppID"),
    "pagepath": _("mini program page"),
    "article_id": _("article id"),
    "media_id": _("media id"),
}


class MenuRefused(Refused):
    """A menu change refused (our own check or WeChat's); nothing was saved or sent."""

    code = "menus.refused"


def position(top: int, sub: int | None = None) -> str:
    """How the editor numbers a button: "2" for the second top button, "2.3" for its third sub-button."""
    return f"{top + 1}" if sub is None else f"{top + 1}.{sub + 1}"


def _where(pos: str, name: str) -> str:
    return f"{pos} “{name}”" if name else pos


def checked(buttons: Any) -> list[dict[str, Any]]:
    """The menu in its clean stored form, or MenuRefused naming the first button that breaks a rule."""
    if not isinstance(buttons, list) or not 0 < len(buttons) <= wx.TOP_MAX:
        raise MenuRefused(_("A menu has 1 to %(n)d top buttons."), {"n": wx.TOP_MAX})
    clean = []
    for i, top in enumerate(buttons):
        if not isinstance(top, dict):
            raise MenuRefused(_("Button %(pos)s is not a button."), {"pos": position(i)})
        name = _name(top, position(i), wx.TOP_NAME_BYTES)
        subs = top.get("sub_button") or []
        if isinstance(subs, dict):  # menu/get's {"list": [...]}
            subs = subs.get("list") or []
        if not isinstance(subs, list):
            raise MenuRefused(_("Button %(pos)s: its sub-buttons are not a list."), {"pos": position(i)})
        if not subs and "sub_button" in top and not top.get("type"):
            raise MenuRefused(
                _("Button %(pos)s is a group: give it 1 to %(n)d sub-buttons."),
                {"pos": _where(position(i), name), "n": wx.SUB_MAX},
            )
        if subs:
            if len(subs) > wx.SUB_MAX:
                raise MenuRefused(
                    _("Button %(pos)s has %(count)d sub-buttons; WeChat allows at most %(n)d."),
                    {"pos": _where(position(i), name), "count": len(subs), "n": wx.SUB_MAX},
                )
            group = []
            for j, sub in enumerate(subs):
                if not isinstance(sub, dict):
                    raise MenuRefused(_("Button %(pos)s is not a button."), {"pos": position(i, j)})
                group.append(_action(sub, position(i, j), _name(sub, position(i, j), wx.SUB_NAME_BYTES)))
            clean.append({"name": name, "sub_button": group})
        else:
            clean.append(_action(top, position(i), name))
    return clean


def _printable(value: str, pos: str, field: str) -> str:
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise MenuRefused(
            _("Button %(pos)s: the %(field)s holds a control character."),
            {"pos": pos, "field": FIELD_LABELS[field]},
        )
    return value


def _name(button: dict[str, Any], pos: str, limit: int) -> str:
    name = _printable(str(button.get("name") or "").strip(), pos, "name")
    size = len(name.encode("utf-8"))
    if not 0 < size <= limit:
        raise MenuRefused(
            _(
                "Button %(pos)s: the name must be 1 to %(limit)d bytes "
                "(a Chinese character is 3), is %(size)d."
            ),
            {"pos": _where(pos, name), "limit": limit, "size": size},
        )
    return name


def _action(button: dict[str, Any], pos: str, name: str) -> dict[str, Any]:
    kind = str(button.get("type") or "")
    if kind not in KEPT_TYPES:
        raise MenuRefused(
            _("Button %(pos)s: “%(type)s” is not a button type WeChat offers."),
            {"pos": _where(pos, name), "type": kind or "-"},
        )
    out: dict[str, Any] = {"type": kind, "name": name}
    for field in KEPT_TYPES[kind]:
        value = _printable(str(button.get(field) or "").strip(), _where(pos, name), field)
        size, limit = len(value.encode("utf-8")), FIELD_BYTES[field]
        if not value:
            raise MenuRefused(
                _("Button %(pos)s: a “%(type)s” button needs its %(field)s."),
                {"pos": _where(pos, name), "type": kind, "field": FIELD_LABELS[field]},
            )
        if size > limit:
            raise MenuRefused(
                _("Button %(pos)s: the %(field)s must be at most %(limit)d bytes, is %(size)d."),
                {"pos": _where(pos, name), "field": FIELD_LABELS[field], "limit": limit, "size": size},
            )
        if field == "url" and not value.startswith(("http://", "https://")):
            raise MenuRefused(
                _("Button %(pos)s: the URL must start with http:// or https://."), {"pos": _where(pos, name)}
            )
        out[field] = value
    return out


def to_wechat(buttons: list[dict[str, Any]]) -> list[wx.Button]:
    """Stored (checked) buttons as the typed API's buttons."""
    return [_typed(b) for b in buttons]


def _typed(data: dict[str, Any]) -> wx.Button:
    return wx.Button(
        name=data["name"],
        type=data.get("type", ""),
        key=data.get("key", ""),
        url=data.get("url", ""),
        media_id=data.get("media_id", ""),
        article_id=data.get("article_id", ""),
        appid=data.get("appid", ""),
        page_path=data.get("pagepath", ""),
        sub_buttons=[_typed(s) for s in data.get("sub_button", [])],
    )


def from_wechat(buttons: list[wx.Button]) -> list[dict[str, Any]]:
    """What WeChat answered, in the stored shape (not checked: it is what WeChat has, whatever it is)."""
    return [b.payload() for b in buttons]


def named_keys(buttons: list[dict[str, Any]]) -> dict[str, str]:
    """key (a view button's URL, a mini program button's page) -> button name: what a menu event's
    EventKey holds."""
    names: dict[str, str] = {}
    for top in buttons:
        for button in top.get("sub_button") or [top]:
            if button.get("key"):
                names[str(button["key"])] = str(button.get("name", ""))
            elif button.get("type") == "view" and button.get("url"):
                names[str(button["url"])] = str(button.get("name", ""))
            elif button.get("type") == "miniprogram" and button.get("pagepath"):
                names[str(button["pagepath"])] = str(button.get("name", ""))
    return names


def leaves(buttons: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """Every button that acts, with its position."""
    found: list[tuple[str, dict[str, Any]]] = []
    for i, top in enumerate(buttons):
        subs = top.get("sub_button") or []
        if subs:
            found.extend((position(i, j), sub) for j, sub in enumerate(subs))
        else:
            found.append((position(i), top))
    return found
