"""Parametric QR codes: temporary (up to 30 days) and permanent (100,000 at most), and their image URL."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from liucun.wechat.api.limits import LimitError
from liucun.wechat.client import Download, WeChatClient

CREATE = "/cgi-bin/qrcode/create"
SHOW = "/cgi-bin/showqrcode"
IMAGE_HOST = "https://mp.weixin.qq.com"

TEMPORARY_MAX_SECONDS = 2592000  # 30 days
PERMANENT_SCENE_MAX = 100000
SCENE_STR_MAX_CHARS = 64
BAD_ARGUMENT = 40097  # what WeChat answers for a scene or lifetime out of range


@dataclass(frozen=True)
class QrCode:
    ticket: str
    url: str  # what the code encodes
    expire_seconds: int | None  # None: permanent


def _scene(scene: int | str, *, permanent: bool) -> dict[str, Any]:
    if isinstance(scene, int):
        high = PERMANENT_SCENE_MAX if permanent else 2**32 - 1
        if not 0 < scene <= high:
            raise LimitError(CREATE, BAD_ARGUMENT, f"scene_id must be 1 to {high}")
        return {"scene": {"scene_id": scene}}
    if not 0 < len(scene) <= SCENE_STR_MAX_CHARS:
        raise LimitError(CREATE, BAD_ARGUMENT, f"scene_str must be 1 to {SCENE_STR_MAX_CHARS} characters")
    return {"scene": {"scene_str": scene}}


def _created(answer: dict[str, Any]) -> QrCode:
    expire = answer.get("expire_seconds")
    return QrCode(
        str(answer["ticket"]), str(answer.get("url", "")), int(expire) if expire is not None else None
    )


def temporary(client: WeChatClient, scene: int | str, expire_seconds: int = TEMPORARY_MAX_SECONDS) -> QrCode:
    if not 60 <= expire_seconds <= TEMPORARY_MAX_SECONDS:
        raise LimitError(CREATE, BAD_ARGUMENT, f"expire_seconds must be 60 to {TEMPORARY_MAX_SECONDS}")
    action = "QR_SCENE" if isinstance(scene, int) else "QR_STR_SCENE"
    payload = {
        "expire_seconds": expire_seconds,
        "action_name": action,
        "action_info": _scene(scene, permanent=False),
    }
    return _created(client.post(CREATE, payload))


def permanent(client: WeChatClient, scene: int | str) -> QrCode:
    """A code that never expires; the account has 100,000 of them in all (45029)."""
    action = "QR_LIMIT_SCENE" if isinstance(scene, int) else "QR_LIMIT_STR_SCENE"
    return _created(
        client.post(CREATE, {"action_name": action, "action_info": _scene(scene, permanent=True)})
    )


def image_url(ticket: str, host: str = IMAGE_HOST) -> str:
    """Where the code's image is served (no access token needed)."""
    return f"{host.rstrip('/')}{SHOW}?ticket={quote(ticket, safe='')}"


def image(client: WeChatClient, ticket: str, host: str = IMAGE_HOST) -> Download:
    """The code's image (WeChat serves a JPEG; wxsim a PNG); an expired or unknown ticket is HTTP 404."""
    return client.download_from(host, SHOW, {"ticket": ticket})
