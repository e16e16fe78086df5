"""Media: temporary media (3 days), permanent materials, and images for article bodies (uploadimg)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from liucun.wechat.api.limits import LimitError
from liucun.wechat.client import Download, UploadFile, WeChatClient

UPLOAD = "/cgi-bin/media/upload"
GET = "/cgi-bin/media/get"
UPLOAD_IMAGE = "/cgi-bin/media/uploadimg"
ADD_MATERIAL = "/cgi-bin/material/add_material"
GET_MATERIAL = "/cgi-bin/material/get_material"
MATERIALS = "/cgi-bin/material/batchget_material"
DELETE_MATERIAL = "/cgi-bin/material/del_material"
MATERIAL_COUNT = "/cgi-bin/material/get_materialcount"

BAD_SIZE, BAD_TYPE = 40006, 40004


class MediaKind(StrEnum):
    IMAGE = "image"
    VOICE = "voice"
    VIDEO = "video"
    THUMB = "thumb"


MAX_BYTES = {
    MediaKind.IMAGE: 10 * 1024 * 1024,
    MediaKind.VOICE: 2 * 1024 * 1024,
    MediaKind.VIDEO: 10 * 1024 * 1024,
    MediaKind.THUMB: 64 * 1024,
}
ARTICLE_IMAGE_MAX_BYTES = 1024 * 1024  # uploadimg: jpg/png under 1 MB
PAGE_MAX = 20


@dataclass(frozen=True)
class TemporaryMedia:
    kind: str
    media_id: str
    created_at: int


@dataclass(frozen=True)
class Material:
    media_id: str
    url: str = ""  # images only


@dataclass(frozen=True)
class MaterialItem:
    media_id: str
    name: str
    update_time: int
    url: str = ""


@dataclass(frozen=True)
class MaterialPage:
    total: int
    items: list[MaterialItem]


@dataclass(frozen=True)
class MaterialCount:
    voice: int
    video: int
    image: int
    news: int


def _sized(path: str, kind: MediaKind, file: UploadFile) -> UploadFile:
    if not file.content or len(file.content) > MAX_BYTES[kind]:
        raise LimitError(path, BAD_SIZE, f"a {kind.value} must be 1 byte to {MAX_BYTES[kind]} bytes")
    return file


def upload(client: WeChatClient, kind: MediaKind, file: UploadFile) -> TemporaryMedia:
    """Temporary media, kept by WeChat for 3 days."""
    answer = client.upload(
        UPLOAD, params={"type": kind.value}, field="media", file=_sized(UPLOAD, kind, file)
    )
    media_id = answer.get("media_id") or answer.get("thumb_media_id")
    return TemporaryMedia(
        str(answer.get("type", kind.value)), str(media_id), int(answer.get("created_at", 0))
    )


def download(client: WeChatClient, media_id: str) -> Download:
    return client.download("GET", GET, params={"media_id": media_id})


def upload_article_image(client: WeChatClient, file: UploadFile) -> str:
    """An image for an article body; its URL (it does not count against the material limit)."""
    if file.content_type not in ("image/jpeg", "image/png"):
        raise LimitError(UPLOAD_IMAGE, BAD_TYPE, "article images are jpg or png")
    if not file.content or len(file.content) > ARTICLE_IMAGE_MAX_BYTES:
        raise LimitError(UPLOAD_IMAGE, BAD_SIZE, "article images are under 1 MB")
    return str(client.upload(UPLOAD_IMAGE, params={}, field="media", file=file)["url"])


def add_material(
    client: WeChatClient, kind: MediaKind, file: UploadFile, *, title: str = "", introduction: str = ""
) -> Material:
    """A permanent material; a video needs a title (and takes an introduction)."""
    form = None
    if kind == MediaKind.VIDEO:
        if not title:
            raise LimitError(ADD_MATERIAL, 40007, "a video material needs a title")
        form = {"description": json.dumps({"title": title, "introduction": introduction}, ensure_ascii=False)}
    answer = client.upload(
        ADD_MATERIAL,
        params={"type": kind.value},
        field="media",
        file=_sized(ADD_MATERIAL, kind, file),
        form=form,
    )
    return Material(str(answer["media_id"]), str(answer.get("url", "")))


def material(client: WeChatClient, media_id: str) -> Download:
    """A material's file (images, voices); for videos and news, its JSON description as the content."""
    return client.download("POST", GET_MATERIAL, body={"media_id": media_id})


def materials(client: WeChatClient, kind: MediaKind, offset: int = 0, count: int = PAGE_MAX) -> MaterialPage:
    if not 1 <= count <= PAGE_MAX:
        raise LimitError(MATERIALS, 40032, f"count must be 1 to {PAGE_MAX}")
    answer = client.post(MATERIALS, {"type": kind.value, "offset": offset, "count": count}, idempotent=True)
    return MaterialPage(int(answer.get("total_count", 0)), [_item(i) for i in answer.get("item", [])])


def _item(item: dict[str, Any]) -> MaterialItem:
    return MaterialItem(
        str(item["media_id"]),
        str(item.get("name", "")),
        int(item.get("update_time", 0)),
        str(item.get("url", "")),
    )


def delete_material(client: WeChatClient, media_id: str) -> None:
    client.post(DELETE_MATERIAL, {"media_id": media_id})


def material_count(client: WeChatClient) -> MaterialCount:
    answer = client.get(MATERIAL_COUNT)
    return MaterialCount(
        int(answer.get("voice_count", 0)),
        int(answer.get("video_count", 0)),
        int(answer.get("image_count", 0)),
        int(answer.get("news_count", 0)),
    )
