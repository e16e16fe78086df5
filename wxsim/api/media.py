"""Temporary media (media/upload, media/get), images inside articles (media/uploadimg) and permanent
materials (material/add_material, get_material, batchget_material, del_material, get_materialcount).

Rules from the official pages 新增临时素材 (uploadTempMedia), 获取临时素材, 新增永久素材, 上传图文消息内的图片
获取URL, 获取永久素材, 获取素材列表, 删除永久素材, 获取素材总数; shapes cross-checked with wechatpy's
client/api/media.py and material.py and WxJava's WxMpMaterialService. Sizes: the 新增临时素材 page lists
image 10 MB, voice 2 MB, video 10 MB, thumb 64 KB (its own note also says "图片2MB": unconfirmed, wxsim
uses 10 MB for both temporary and permanent images); uploadimg takes jpg/png under 1 MB.
A file's type is checked from its first bytes (an assumption: WeChat does not say how it checks).
"""

from __future__ import annotations

import json
from typing import Any

from wxsim import errors as e
from wxsim.api.routing import Request, Response, api, json_response
from wxsim.content import Media
from wxsim.errors import fail
from wxsim.multipart import MultipartError, parse

MB = 1024 * 1024
SIZE_LIMITS = {"image": 10 * MB, "voice": 2 * MB, "video": 10 * MB, "thumb": 64 * 1024}
UPLOADIMG_LIMIT = 1 * MB
TEMPORARY_SECONDS = 3 * 86400
# 新增永久素材: 图文消息素材、图片素材上限为100000，其他类型为1000 (older pages said 5000; unconfirmed).
MATERIAL_LIMITS = {"image": 100000, "voice": 1000, "video": 1000, "thumb": 1000}
BATCH_MAX = 20


_SIGNATURES = (
    (b"\xff\xd8\xff", "jpg"),
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
    (b"BM", "bmp"),
    (b"#!AMR", "amr"),
    (b"ID3", "mp3"),
    (b"\xff\xfb", "mp3"),
    (b"\xff\xf3", "mp3"),
    (b"\xff\xf2", "mp3"),
)


def _kind_of(data: bytes) -> str:
    if data[4:8] == b"ftyp":
        return "mp4"
    return next((kind for head, kind in _SIGNATURES if data.startswith(head)), "")


FORMATS = {
    "image": {"jpg", "png", "gif", "bmp"},
    "voice": {"mp3", "amr"},
    "video": {"mp4"},
    "thumb": {"jpg"},
}


def _upload(request: Request, kind: str, limit: int, formats: set[str]) -> tuple[bytes, str, str]:
    """The `media` part of a multipart upload, checked like WeChat: size, emptiness, format."""
    if request.body_too_large:
        raise fail(e.MEDIA_TOO_BIG)
    try:
        part = parse(request.content_type, request.body).get("media")
    except MultipartError:
        raise fail(e.EMPTY_MEDIA, "a multipart/form-data body with a media part") from None
    if part is None or not part.data:
        raise fail(e.EMPTY_MEDIA)
    if len(part.data) > limit:
        raise fail(e.MEDIA_TOO_BIG, f"{kind} up to {limit} bytes")
    if _kind_of(part.data) not in formats:
        raise fail(e.INVALID_FILE_TYPE, f"{kind}: {', '.join(sorted(formats))}")
    return part.data, part.filename or f"{kind}.{_kind_of(part.data)}", part.content_type


def _media_type(request: Request) -> str:
    kind = request.query.get("type", "")
    if kind not in SIZE_LIMITS:
        raise fail(e.INVALID_MEDIA_TYPE)
    return kind


@api("POST", "/cgi-bin/media/upload")
def upload_temporary(request: Request) -> dict[str, Any]:
    account = request.need_account()
    kind = _media_type(request)
    data, filename, content_type = _upload(request, kind, SIZE_LIMITS[kind], FORMATS[kind])
    now = int(request.world.clock.now())
    with request.world.lock:
        held = account.content.media
        for expired in [k for k, m in held.items() if m.created_at + TEMPORARY_SECONDS <= now]:
            del held[expired]  # gone after three days: their bytes need not stay in memory
        media_id = account.content.new_id("tmp_")
        held[media_id] = Media(media_id, kind, data, filename, content_type, now, False)
    return {"type": kind, "media_id": media_id, "created_at": now}


@api("GET", "/cgi-bin/media/get")
def get_temporary(request: Request) -> Response:
    account = request.need_account()
    media = account.content.media.get(request.query.get("media_id", ""))
    if media is None or media.created_at + TEMPORARY_SECONDS <= request.world.clock.now():
        raise fail(e.INVALID_MEDIA_ID)
    if media.kind == "video":
        # 获取临时素材: a video answers a JSON download address instead of the bytes.
        return json_response({"video_url": media.url})
    return Response(
        200,
        media.data,
        media.content_type or "application/octet-stream",
        [("Content-disposition", f'attachment; filename="{media.filename}"')],
    )


@api("POST", "/cgi-bin/media/uploadimg")
def upload_article_image(request: Request) -> dict[str, Any]:
    account = request.need_account()
    data, filename, content_type = _upload(request, "image", UPLOADIMG_LIMIT, {"jpg", "png"})
    with request.world.lock:
        media_id = account.content.new_id("img_")
        media = Media(media_id, "image", data, filename, content_type, int(request.world.clock.now()), True)
    # Not kept as a material: it does not count against the image limit (上传图文消息内的图片获取URL).
    return {"url": media.url}


@api("POST", "/cgi-bin/material/add_material")
def add_material(request: Request) -> dict[str, Any]:
    account = request.need_account()
    kind = _media_type(request)
    data, filename, content_type = _upload(request, kind, SIZE_LIMITS[kind], FORMATS[kind])
    title = introduction = ""
    if kind == "video":
        try:
            parts = parse(request.content_type, request.body)
            raw = (
                parts["description"].data if "description" in parts else request.query.get("description", "")
            )
            description = json.loads(raw or "{}")
        except (ValueError, KeyError):
            raise fail(e.PARSE_ERROR, "description") from None
        title = str(description.get("title", ""))
        introduction = str(description.get("introduction", ""))
        if not title:
            raise fail(e.PARSE_ERROR, "a video needs a description with a title")
    with request.world.lock:
        held = sum(1 for m in account.content.materials.values() if m.kind == kind)
        if held >= MATERIAL_LIMITS[kind]:
            raise fail(e.API_LIMIT, f"{MATERIAL_LIMITS[kind]} {kind} materials")
        media_id = account.content.new_id("mat_")
        media = Media(
            media_id,
            kind,
            data,
            filename,
            content_type,
            int(request.world.clock.now()),
            True,
            title,
            introduction,
        )
        account.content.materials[media_id] = media
    answer: dict[str, Any] = {"media_id": media_id}
    if kind in ("image", "thumb"):
        answer["url"] = media.url
    return answer


def _material(request: Request) -> Media:
    media = request.need_account().content.materials.get(str(request.json().get("media_id", "")))
    if media is None:
        raise fail(e.INVALID_MEDIA_ID)
    return media


@api("POST", "/cgi-bin/material/get_material")
def get_material(request: Request) -> Any:
    media = _material(request)
    if media.kind == "video":
        return {"title": media.title, "description": media.introduction, "down_url": media.url}
    return Response(
        200,
        media.data,
        media.content_type or "application/octet-stream",
        [("Content-disposition", f'attachment; filename="{media.filename}"')],
    )


@api("POST", "/cgi-bin/material/del_material")
def delete_material(request: Request) -> dict[str, Any]:
    media = _material(request)
    with request.world.lock:
        request.need_account().content.materials.pop(media.media_id, None)
    return {"errcode": 0, "errmsg": "ok"}


@api("POST", "/cgi-bin/material/batchget_material")
def batchget_material(request: Request) -> dict[str, Any]:
    body = request.json()
    kind = str(body.get("type", ""))
    if kind not in ("image", "voice", "video"):
        raise fail(e.INVALID_MEDIA_TYPE)
    try:
        offset, count = int(body.get("offset", 0)), int(body.get("count", 0))
    except (TypeError, ValueError):
        raise fail(e.PARSE_ERROR, "offset and count") from None
    if offset < 0 or not 1 <= count <= BATCH_MAX:
        raise fail(e.PARSE_ERROR, f"count is 1 to {BATCH_MAX}")
    with request.world.lock:
        # Newest first, as the console's material library lists them.
        held = [m for m in reversed(request.need_account().content.materials.values()) if m.kind == kind]
    page = held[offset : offset + count]
    return {
        "total_count": len(held),
        "item_count": len(page),
        "item": [
            {"media_id": m.media_id, "name": m.filename, "update_time": m.created_at, "url": m.url}
            for m in page
        ],
    }


@api("GET", "/cgi-bin/material/get_materialcount")
def material_count(request: Request) -> dict[str, Any]:
    with request.world.lock:
        materials = list(request.need_account().content.materials.values())
        drafts = len(request.need_account().content.drafts)
    counts = {kind: sum(1 for m in materials if m.kind == kind) for kind in ("voice", "video", "image")}
    return {
        "voice_count": counts["voice"],
        "video_count": counts["video"],
        "image_count": counts["image"],
        "news_count": drafts,
    }
