"""REST endpoints for channels and their QR codes: validation and orchestration; liucun.channels acts."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema, Status

from liucun.api.scope import account_for, principal
from liucun.channels import actions, queries
from liucun.channels.models import Channel, QrCode
from liucun.staff.models import Role

router = Router(tags=["channels"])


class ChannelOut(Schema):
    id: int
    scene: str
    name: str
    note: str
    created_at: datetime
    fans_following: int
    fans_ever: int


class ChannelIn(Schema):
    scene: str
    name: str
    note: str = ""


class ChannelUpdate(Schema):
    name: str | None = None
    note: str | None = None


class SceneOut(Schema):
    scene: str
    channel_id: int | None
    name: str | None
    fans_following: int
    fans_ever: int


class QrCodeIn(Schema):
    kind: Literal["temporary", "permanent"]
    # Temporary codes: 60 to 2,592,000 (30 days); left out, 30 days. Permanent codes: leave it out.
    expire_seconds: int | None = None


class QrCodeOut(Schema):
    id: int
    channel_id: int
    kind: str
    ticket: str
    url: str
    expires_at: datetime | None
    created_at: datetime


def _actor(request: HttpRequest) -> Any:
    who = principal(request)
    return who.user if who.token is None else who.label


def _out(channel: Channel, fans: queries.SceneCount | None) -> dict[str, Any]:
    return {
        "id": channel.pk,
        "scene": channel.scene,
        "name": channel.name,
        "note": channel.note,
        "created_at": channel.created_at,
        "fans_following": fans.following if fans else 0,
        "fans_ever": fans.ever if fans else 0,
    }


def _qr_out(code: QrCode) -> dict[str, Any]:
    return {
        "id": code.pk,
        "channel_id": code.channel_id,
        "kind": code.kind,
        "ticket": code.ticket,
        "url": code.url,
        "expires_at": code.expires_at,
        "created_at": code.created_at,
    }


@router.get(
    "/accounts/{appid}/channels", response=list[ChannelOut], summary="Channels of an account, by name"
)
def list_channels(request: HttpRequest, appid: str) -> Any:
    account = account_for(request, appid, Role.OPERATOR)
    page = queries.channels_page(account.pk, limit=0)
    return [
        _out(row.channel, queries.SceneCount(row.channel.scene, row.ever, row.following))
        for row in page.channels
    ]


@router.get(
    "/accounts/{appid}/channels/scenes",
    response=list[SceneOut],
    summary="Every QR scene seen on fans or named, most fans first, with its channel if it has one",
)
def list_scenes(request: HttpRequest, appid: str) -> Any:
    account = account_for(request, appid, Role.OPERATOR)
    named = {c.scene: c for c in Channel.objects.filter(account=account)}
    counts = queries.scene_counts(account.pk)
    scenes = sorted(set(named) | set(counts), key=lambda s: (-(counts[s].ever if s in counts else 0), s))
    return [
        {
            "scene": s,
            "channel_id": named[s].pk if s in named else None,
            "name": named[s].name if s in named else None,
            "fans_following": counts[s].following if s in counts else 0,
            "fans_ever": counts[s].ever if s in counts else 0,
        }
        for s in scenes
    ]


@router.post(
    "/accounts/{appid}/channels", response={201: ChannelOut}, summary="Name a scene: create a channel"
)
def create_channel(request: HttpRequest, appid: str, body: ChannelIn) -> Any:
    account = account_for(request, appid, Role.OPERATOR)
    channel = actions.create_channel(_actor(request), account, body.scene, body.name, body.note)
    return Status(201, _out(channel, queries.fans_of_scene(account.pk, channel.scene)))


@router.get(
    "/accounts/{appid}/channels/{channel_id}", response=ChannelOut, summary="A channel and its fan counts"
)
def get_channel(request: HttpRequest, appid: str, channel_id: int) -> Any:
    account = account_for(request, appid, Role.OPERATOR)
    channel = actions.channel_of(account, channel_id)
    return _out(channel, queries.fans_of_scene(account.pk, channel.scene))


@router.patch(
    "/accounts/{appid}/channels/{channel_id}",
    response=ChannelOut,
    summary="Rename a channel or change its note",
)
def update_channel(request: HttpRequest, appid: str, channel_id: int, body: ChannelUpdate) -> Any:
    account = account_for(request, appid, Role.OPERATOR)
    channel = actions.channel_of(account, channel_id)
    name = channel.name if body.name is None else body.name
    note = channel.note if body.note is None else body.note
    channel = actions.update_channel(_actor(request), account, channel.pk, name, note)
    return _out(channel, queries.fans_of_scene(account.pk, channel.scene))


@router.delete(
    "/accounts/{appid}/channels/{channel_id}",
    response={204: None},
    summary="Delete a channel (its name and codes); fans keep their scene",
)
def delete_channel(request: HttpRequest, appid: str, channel_id: int) -> Any:
    account = account_for(request, appid, Role.OPERATOR)
    actions.delete_channel(_actor(request), account, channel_id)
    return Status(204, None)


@router.get(
    "/accounts/{appid}/channels/{channel_id}/qrcodes",
    response=list[QrCodeOut],
    summary="A channel's QR codes, newest first",
)
def list_qrcodes(request: HttpRequest, appid: str, channel_id: int) -> Any:
    account = account_for(request, appid, Role.OPERATOR)
    channel = actions.channel_of(account, channel_id)
    codes = QrCode.objects.filter(channel=channel).defer("image").order_by("-created_at", "-pk")
    return [_qr_out(c) for c in codes]


@router.post(
    "/accounts/{appid}/channels/{channel_id}/qrcodes",
    response={201: QrCodeOut},
    summary="Create a temporary or permanent QR code for the channel (in WeChat)",
)
def create_qrcode(request: HttpRequest, appid: str, channel_id: int, body: QrCodeIn) -> Any:
    account = account_for(request, appid, Role.OPERATOR)
    ask = actions.QrRequest(body.kind, body.expire_seconds)
    return Status(201, _qr_out(actions.create_qrcode(_actor(request), account, channel_id, ask)))


_IMAGE = {"schema": {"type": "string", "format": "binary"}}


@router.get(
    "/accounts/{appid}/channels/{channel_id}/qrcodes/{qrcode_id}/image",
    response={200: None},
    summary="The QR code's image (PNG or JPEG, as WeChat serves it), as a download",
    openapi_extra={
        "responses": {
            "200": {"description": "The image", "content": {"image/png": _IMAGE, "image/jpeg": _IMAGE}}
        }
    },
)
def qrcode_image(request: HttpRequest, appid: str, channel_id: int, qrcode_id: int) -> HttpResponse:
    account = account_for(request, appid, Role.OPERATOR)
    image = actions.qrcode_image(account, channel_id, qrcode_id)
    response = HttpResponse(image.content, content_type=image.content_type)
    response["Content-Disposition"] = f'attachment; filename="{image.filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
