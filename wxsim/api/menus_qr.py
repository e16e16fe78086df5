"""Custom menus (default and conditional) and parametric QR codes."""

from __future__ import annotations

import struct
import zlib
from hashlib import sha256
from typing import Any

from wxsim import errors as e
from wxsim.api.routing import Request, Response, api
from wxsim.errors import fail

BUTTON_TYPES = {
    "click",
    "view",
    "scancode_push",
    "scancode_waitmsg",
    "pic_sysphoto",
    "pic_photo_or_album",
    "pic_weixin",
    "location_select",
    "media_id",
    "article_id",
    "article_view_limited",
    "miniprogram",
}
TOP_MAX, SUB_MAX = 3, 5
TOP_NAME_BYTES, SUB_NAME_BYTES, KEY_BYTES, URL_BYTES = 16, 60, 128, 1024
TEMP_MAX_SECONDS = 2592000
PERMANENT_MAX = 100000
OK = {"errcode": 0, "errmsg": "ok"}


def _check_button(button: Any, name_limit: int) -> None:
    if not isinstance(button, dict) or not isinstance(button.get("name"), str):
        raise fail(e.INVALID_BUTTON_NAME)
    if not 0 < len(button["name"].encode()) <= name_limit:
        raise fail(e.INVALID_BUTTON_NAME)
    kind = button.get("type")
    if kind not in BUTTON_TYPES:
        raise fail(e.INVALID_BUTTON_TYPE)
    if kind == "view" and not 0 < len(str(button.get("url", "")).encode()) <= URL_BYTES:
        raise fail(e.INVALID_BUTTON_URL)
    if kind not in ("view", "miniprogram", "media_id", "article_id", "article_view_limited") and not (
        0 < len(str(button.get("key", "")).encode()) <= KEY_BYTES
    ):
        raise fail(e.INVALID_BUTTON_KEY)


def _check_menu(buttons: Any) -> list[dict[str, Any]]:
    if not isinstance(buttons, list) or not 0 < len(buttons) <= TOP_MAX:
        raise fail(e.INVALID_BUTTON_SIZE)
    for button in buttons:
        subs = button.get("sub_button") if isinstance(button, dict) else None
        if subs:
            if not isinstance(subs, list) or len(subs) > SUB_MAX:
                raise fail(e.INVALID_SUB_BUTTON_SIZE)
            if not 0 < len(str(button.get("name", "")).encode()) <= TOP_NAME_BYTES:
                raise fail(e.INVALID_BUTTON_NAME)
            for sub in subs:
                _check_button(sub, SUB_NAME_BYTES)
        else:
            _check_button(button, TOP_NAME_BYTES)
    return buttons


@api("POST", "/cgi-bin/menu/create")
def create(request: Request) -> dict[str, Any]:
    account = request.need_account()
    account.menu = _check_menu(request.json().get("button"))
    return OK


@api("GET", "/cgi-bin/menu/get")
def get(request: Request) -> dict[str, Any]:
    account = request.need_account()
    if account.menu is None:
        raise fail(e.NO_MENU)
    result: dict[str, Any] = {"menu": {"button": account.menu}}
    if account.conditional_menus:
        result["conditionalmenu"] = account.conditional_menus
    return result


@api("GET", "/cgi-bin/menu/delete")
def delete(request: Request) -> dict[str, Any]:
    account = request.need_account()
    account.menu, account.conditional_menus = None, []
    return OK


@api("POST", "/cgi-bin/menu/addconditional")
def add_conditional(request: Request) -> dict[str, Any]:
    account = request.need_account()
    body = request.json()
    if account.menu is None:
        raise fail(e.NO_DEFAULT_MENU)
    rule = body.get("matchrule")
    if not isinstance(rule, dict) or not rule:
        raise fail(e.PARSE_ERROR, "matchrule")
    if any(rule.get(k) for k in ("sex", "country", "province", "city", "language")):
        raise fail(e.PRIVACY_MATCH_RULE)
    menu_id = str(400000000 + len(account.conditional_menus) + 1)
    account.conditional_menus.append(
        {"button": _check_menu(body.get("button")), "matchrule": rule, "menuid": menu_id}
    )
    return {"menuid": menu_id}


@api("POST", "/cgi-bin/menu/delconditional")
def del_conditional(request: Request) -> dict[str, Any]:
    account = request.need_account()
    menu_id = str(request.json().get("menuid", ""))
    kept = [m for m in account.conditional_menus if m["menuid"] != menu_id]
    if len(kept) == len(account.conditional_menus):
        raise fail(e.NO_MENU)
    account.conditional_menus = kept
    return OK


@api("POST", "/cgi-bin/menu/trymatch")
def try_match(request: Request) -> dict[str, Any]:
    account = request.need_account()
    with request.world.lock:
        fan = request.world.fan(account, str(request.json().get("user_id", "")))
        for menu in reversed(account.conditional_menus):  # the newest matching rule wins
            tag = menu["matchrule"].get("tag_id")
            if tag is None or str(tag) in {str(t) for t in fan.tags}:
                return {"button": menu["button"]}
    if account.menu is None:
        raise fail(e.NO_MENU)
    return {"button": account.menu}


def _scene(action: str, info: Any) -> str:
    scene = info.get("scene") if isinstance(info, dict) else None
    if not isinstance(scene, dict):
        raise fail(e.INVALID_SCENE, "action_info.scene")
    if action in ("QR_SCENE", "QR_LIMIT_SCENE"):
        value = scene.get("scene_id")
        limit = PERMANENT_MAX if action == "QR_LIMIT_SCENE" else 2**32 - 1
        if not isinstance(value, int) or not 0 < value <= limit:
            raise fail(e.INVALID_SCENE, "scene_id")
        return str(value)
    value = scene.get("scene_str")
    if not isinstance(value, str) or not 0 < len(value) <= 64:
        raise fail(e.INVALID_SCENE, "scene_str")
    return value


@api("POST", "/cgi-bin/qrcode/create")
def qrcode_create(request: Request) -> dict[str, Any]:
    account = request.need_account()
    body = request.json()
    action = body.get("action_name")
    if action not in ("QR_SCENE", "QR_STR_SCENE", "QR_LIMIT_SCENE", "QR_LIMIT_STR_SCENE"):
        raise fail(e.INVALID_SCENE, "action_name")
    scene = _scene(str(action), body.get("action_info"))
    permanent = "LIMIT" in str(action)
    now = request.world.clock.now()
    with request.world.lock:
        if permanent and sum(1 for q in account.qrcodes.values() if q["permanent"]) >= PERMANENT_MAX:
            raise fail(e.QR_LIMIT)
        expire = None if permanent else min(int(body.get("expire_seconds", 60)), TEMP_MAX_SECONDS)
        ticket = "gQ" + sha256(f"{account.appid}:{scene}:{len(account.qrcodes)}".encode()).hexdigest()[:40]
        account.qrcodes[ticket] = {
            "scene": scene,
            "permanent": permanent,
            "expires_at": None if expire is None else now + expire,
        }
    answer: dict[str, Any] = {"ticket": ticket, "url": f"http://weixin.qq.com/q/{ticket[2:24]}"}
    if expire is not None:
        answer["expire_seconds"] = expire
    return answer


def qr_png(ticket: str, size: int = 21) -> bytes:
    """A deterministic black-and-white PNG per ticket. It looks like a QR code but does not scan."""
    bits = sha256(ticket.encode()).digest() * 8
    scale = 8
    rows = []
    for y in range(size * scale):
        row = bytearray([0])
        for x in range(size * scale):
            cell = (y // scale) * size + (x // scale)
            row.append(0 if bits[cell // 8] >> (cell % 8) & 1 else 255)
        rows.append(bytes(row))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", size * scale, size * scale, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"".join(rows)))
        + chunk(b"IEND", b"")
    )


@api("GET", "/cgi-bin/showqrcode", token=False, faults=False)
def show_qrcode(request: Request) -> Response:
    ticket = request.query.get("ticket", "")
    for account in request.world.accounts.values():
        qr = account.qrcodes.get(ticket)
        if qr is not None:
            if qr["expires_at"] is not None and qr["expires_at"] < request.world.clock.now():
                return Response(404, b"expired")
            return Response(200, qr_png(ticket), "image/png")
    return Response(404, b"no such ticket")
