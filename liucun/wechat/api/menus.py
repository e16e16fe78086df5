"""The custom menu: the default one, conditional ones (by tag and client platform), and trymatch.

Checked before the call: 1 to 3 top buttons of at most 5 sub-buttons each, names at most 16 bytes (top)
and 60 bytes (sub), keys 128 bytes, URLs 1024 bytes, with the codes WeChat answers (40016 to 40023).
Matching by sex, region or language is no longer allowed (65320), so MatchRule has no such fields.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from liucun.wechat.api.limits import LimitError
from liucun.wechat.client import WeChatClient

CREATE = "/cgi-bin/menu/create"
GET = "/cgi-bin/menu/get"
DELETE = "/cgi-bin/menu/delete"
ADD_CONDITIONAL = "/cgi-bin/menu/addconditional"
DELETE_CONDITIONAL = "/cgi-bin/menu/delconditional"
TRY_MATCH = "/cgi-bin/menu/trymatch"

TOP_MAX, SUB_MAX = 3, 5
TOP_NAME_BYTES, SUB_NAME_BYTES, KEY_BYTES, URL_BYTES = 16, 60, 128, 1024
TYPES_WITH_KEY = frozenset(
    {
        "click",
        "scancode_push",
        "scancode_waitmsg",
        "pic_sysphoto",
        "pic_photo_or_album",
        "pic_weixin",
        "location_select",
    }
)
TYPES = TYPES_WITH_KEY | {"view", "media_id", "article_id", "article_view_limited", "miniprogram"}


@dataclass(frozen=True)
class Button:
    """A button: `type` with its key / url / media_id / article_id / appid+pagepath; or a group of
    sub-buttons (no type)."""

    name: str
    type: str = ""
    key: str = ""
    url: str = ""
    media_id: str = ""
    article_id: str = ""
    appid: str = ""
    page_path: str = ""
    sub_buttons: list[Button] = field(default_factory=list)

    def payload(self) -> dict[str, Any]:
        if self.sub_buttons:
            return {"name": self.name, "sub_button": [b.payload() for b in self.sub_buttons]}
        out: dict[str, Any] = {"type": self.type, "name": self.name}
        for key, value in (
            ("key", self.key),
            ("url", self.url),
            ("media_id", self.media_id),
            ("article_id", self.article_id),
            ("appid", self.appid),
            ("pagepath", self.page_path),
        ):
            if value:
                out[key] = value
        return out


@dataclass(frozen=True)
class MatchRule:
    tag_id: int | None = None
    client_platform_type: int | None = None  # 1 iOS, 2 Android, 3 others

    def payload(self) -> dict[str, str]:
        out = {}
        if self.tag_id is not None:
            out["tag_id"] = str(self.tag_id)
        if self.client_platform_type is not None:
            out["client_platform_type"] = str(self.client_platform_type)
        return out


@dataclass(frozen=True)
class ConditionalMenu:
    menu_id: str
    buttons: list[Button]
    rule: MatchRule


@dataclass(frozen=True)
class Menus:
    buttons: list[Button]
    conditional: list[ConditionalMenu]


def _size(path: str, value: str, limit: int, errcode: int, what: str) -> None:
    if not 0 < len(value.encode("utf-8")) <= limit:
        raise LimitError(path, errcode, f"{what} must be 1 to {limit} bytes")


def _check(path: str, buttons: list[Button]) -> list[dict[str, Any]]:
    if not 0 < len(buttons) <= TOP_MAX:
        raise LimitError(path, 40016, f"a menu has 1 to {TOP_MAX} buttons")
    for top in buttons:
        _size(path, top.name, TOP_NAME_BYTES, 40018, "a button name")
        if top.sub_buttons:
            if len(top.sub_buttons) > SUB_MAX:
                raise LimitError(path, 40023, f"a group has 1 to {SUB_MAX} buttons")
            for sub in top.sub_buttons:
                _size(path, sub.name, SUB_NAME_BYTES, 40018, "a button name")
                _check_action(path, sub)
        else:
            _check_action(path, top)
    return [b.payload() for b in buttons]


def _check_action(path: str, button: Button) -> None:
    if button.sub_buttons or button.type not in TYPES:
        raise LimitError(path, 40017, f"{button.type or 'a group'} is not a button type here")
    if button.type in TYPES_WITH_KEY:
        _size(path, button.key, KEY_BYTES, 40019, "a button key")
    if button.type == "view":
        _size(path, button.url, URL_BYTES, 40020, "a button URL")


def _button(data: dict[str, Any]) -> Button:
    return Button(
        name=str(data.get("name", "")),
        type=str(data.get("type", "")),
        key=str(data.get("key", "")),
        url=str(data.get("url", "")),
        media_id=str(data.get("media_id", "")),
        article_id=str(data.get("article_id", "")),
        appid=str(data.get("appid", "")),
        page_path=str(data.get("pagepath", "")),
        sub_buttons=[_button(s) for s in _subs(data)],
    )


def _subs(data: dict[str, Any]) -> list[dict[str, Any]]:
    # menu/get wraps sub-buttons as {"list": [...]} in some answers and as a plain list in others.
    subs = data.get("sub_button") or []
    return list(subs.get("list", [])) if isinstance(subs, dict) else list(subs)


def _rule(data: dict[str, Any]) -> MatchRule:
    tag, platform = data.get("tag_id"), data.get("client_platform_type")
    return MatchRule(
        int(tag) if tag not in (None, "") else None, int(platform) if platform not in (None, "") else None
    )


def create(client: WeChatClient, buttons: list[Button]) -> None:
    """Replace the default menu."""
    client.post(CREATE, {"button": _check(CREATE, buttons)}, idempotent=True)


def current(client: WeChatClient) -> Menus:
    """The default menu and the conditional ones (46003 when there is no menu)."""
    answer = client.get(GET)
    default = [_button(b) for b in (answer.get("menu") or {}).get("button", [])]
    conditional = [
        ConditionalMenu(
            str(m.get("menuid", "")),
            [_button(b) for b in m.get("button", [])],
            _rule(m.get("matchrule") or {}),
        )
        for m in answer.get("conditionalmenu", [])
    ]
    return Menus(default, conditional)


def delete(client: WeChatClient) -> None:
    """Delete every menu, the conditional ones too."""
    client.get(DELETE)


def add_conditional(client: WeChatClient, buttons: list[Button], rule: MatchRule) -> str:
    """A menu for the fans matching `rule` (a default menu must exist, 65303); its menuid."""
    if not rule.payload():
        raise LimitError(ADD_CONDITIONAL, 47001, "a conditional menu needs a tag or a client platform")
    payload = {"button": _check(ADD_CONDITIONAL, buttons), "matchrule": rule.payload()}
    return str(client.post(ADD_CONDITIONAL, payload)["menuid"])


def delete_conditional(client: WeChatClient, menu_id: str) -> None:
    client.post(DELETE_CONDITIONAL, {"menuid": menu_id}, idempotent=True)


def try_match(client: WeChatClient, openid: str) -> list[Button]:
    """The menu this follower sees."""
    answer = client.post(TRY_MATCH, {"user_id": openid}, idempotent=True)
    return [_button(b) for b in answer.get("button", [])]
