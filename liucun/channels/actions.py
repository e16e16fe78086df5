"""Named writes on channels and their QR codes, each in one transaction with its audit entry.

A QR code is made by WeChat first and recorded here after; if the process dies between the two, WeChat
holds a code nobody uses, which costs nothing but (for a permanent one) a place under the 100,000 limit.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from liucun.accounts.models import OfficialAccount
from liucun.accounts.wechat_api import client_for
from liucun.channels.models import NAME_MAX_CHARS, NOTE_MAX_CHARS, SCENE_MAX_CHARS, Channel, QrCode, QrKind
from liucun.refusals import Refused
from liucun.staff.audit import actor_label, record
from liucun.wechat.api import qrcode as wechat_qrcode
from liucun.wechat.apierrors import PermanentError

Actor = AbstractBaseUser | str

TEMPORARY_MIN_SECONDS = 60
TEMPORARY_MAX_SECONDS = wechat_qrcode.TEMPORARY_MAX_SECONDS
PERMANENT_MAX = wechat_qrcode.PERMANENT_SCENE_MAX
TEMPORARY_SCENE_ID_MAX = 2**32 - 1


class ChannelError(Refused):
    """A channel or QR code change refused; `code` names the field at fault where there is one."""

    code = "channels.refused"


class NoSuchChannel(ChannelError):
    status = 404
    code = "channels.not_found"


def _now() -> datetime:
    return datetime.now(UTC)


def clean_scene(scene: str) -> str:
    scene = (scene or "").strip()
    if not scene:
        raise ChannelError(_("scene: a channel needs a scene."), code="channels.scene")
    if len(scene) > SCENE_MAX_CHARS:
        raise ChannelError(
            _("scene: at most %(n)d characters (WeChat's scene_str limit)."),
            {"n": SCENE_MAX_CHARS},
            code="channels.scene",
        )
    if any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Zl", "Zp") or c.isspace() for c in scene):
        raise ChannelError(_("scene: no spaces or control characters."), code="channels.scene")
    return scene


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise ChannelError(_("name: a channel needs a name."), code="channels.name")
    if len(name) > NAME_MAX_CHARS:
        raise ChannelError(_("name: at most %(n)d characters."), {"n": NAME_MAX_CHARS}, code="channels.name")
    if _unstorable(name):
        raise ChannelError(_("name: no control characters."), code="channels.name")
    return name


def _clean_note(note: str) -> str:
    note = (note or "").strip()
    if len(note) > NOTE_MAX_CHARS:
        raise ChannelError(_("note: at most %(n)d characters."), {"n": NOTE_MAX_CHARS}, code="channels.note")
    if _unstorable(note):
        raise ChannelError(_("note: no control characters."), code="channels.note")
    return note


def _unstorable(text: str) -> bool:
    """Control characters and lone surrogates: invisible on the page, and PostgreSQL refuses NUL."""
    return any(unicodedata.category(c) in ("Cc", "Cs") for c in text)


def channel_of(account: OfficialAccount, channel_id: int) -> Channel:
    """The account's channel; another account's is as missing as a wrong id."""
    channel = Channel.objects.filter(account=account, pk=channel_id).first()
    if channel is None:
        raise NoSuchChannel(_("No such channel on this account."))
    return channel


def _name_taken(account: OfficialAccount, name: str, but: int = 0) -> None:
    if Channel.objects.filter(account=account, name=name).exclude(pk=but).exists():
        raise ChannelError(_("name: another channel is already called this."), code="channels.name")


def create_channel(actor: Actor, account: OfficialAccount, scene: str, name: str, note: str = "") -> Channel:
    """Name a scene: one fans already came through, or a new one to print on a QR code."""
    scene, name, note = clean_scene(scene), _clean_name(name), _clean_note(note)
    if Channel.objects.filter(account=account, scene=scene).exists():
        raise ChannelError(_("scene: this scene already has a channel."), code="channels.scene")
    _name_taken(account, name)
    try:
        with transaction.atomic():
            channel = Channel.objects.create(
                account=account, scene=scene, name=name, note=note, created_by=actor_label(actor)
            )
            record(actor, "channels.create", account=account, target=name, changes={"scene": scene})
    except IntegrityError:
        # Someone named the same scene or used the same name a moment ago.
        raise ChannelError(_("The scene or the name was just taken; reload and try again.")) from None
    return channel


def update_channel(actor: Actor, account: OfficialAccount, channel_id: int, name: str, note: str) -> Channel:
    """Rename a channel or change its note. Its scene never changes: printed codes carry it."""
    channel = channel_of(account, channel_id)
    name, note = _clean_name(name), _clean_note(note)
    _name_taken(account, name, but=channel.pk)
    changes = {
        k: [getattr(channel, k), v] for k, v in (("name", name), ("note", note)) if getattr(channel, k) != v
    }
    if not changes:
        return channel
    try:
        with transaction.atomic():
            Channel.objects.filter(pk=channel.pk).update(name=name, note=note)
            record(actor, "channels.update", account=account, target=name, changes=changes)
    except IntegrityError:
        raise ChannelError(_("name: another channel is already called this."), code="channels.name") from None
    channel.name, channel.note = name, note
    return channel


def delete_channel(actor: Actor, account: OfficialAccount, channel_id: int) -> None:
    """Forget the name and the codes made for it. Fans keep the scene they came through, and printed codes
    keep working: their fans show under the bare scene again."""
    channel = channel_of(account, channel_id)
    with transaction.atomic():
        codes = QrCode.objects.filter(channel=channel).count()
        channel.delete()
        record(
            actor,
            "channels.delete",
            account=account,
            target=channel.name,
            changes={"scene": channel.scene, "qrcodes": codes},
        )


@dataclass(frozen=True)
class QrRequest:
    kind: str
    expire_seconds: int | None = None  # temporary codes only; None: 30 days


def _wechat_scene(scene: str, kind: str) -> int | str:
    """A plain number in range goes as scene_id, anything else as scene_str: either way WeChat hands the same
    string back in EventKey, so the fans land on the same channel."""
    high = PERMANENT_MAX if kind == QrKind.PERMANENT else TEMPORARY_SCENE_ID_MAX
    if scene.isascii() and scene.isdigit() and not scene.startswith("0") and int(scene) <= high:
        return int(scene)
    return scene


def _check(account: OfficialAccount, ask: QrRequest) -> int | None:
    if ask.kind not in QrKind.values:
        raise ChannelError(_("kind: a QR code is temporary or permanent."), code="channels.kind")
    if ask.kind == QrKind.PERMANENT:
        if ask.expire_seconds is not None:
            raise ChannelError(
                _("expire_seconds: a permanent code does not expire; leave it out."),
                code="channels.expire_seconds",
            )
        made = QrCode.objects.filter(channel__account=account, kind=QrKind.PERMANENT).count()
        if made >= PERMANENT_MAX:
            raise ChannelError(
                _("kind: the account has made %(n)s permanent codes, WeChat's limit; use a temporary one."),
                {"n": f"{PERMANENT_MAX:,}"},
                code="channels.permanent_limit",
            )
        return None
    seconds = TEMPORARY_MAX_SECONDS if ask.expire_seconds is None else ask.expire_seconds
    if not TEMPORARY_MIN_SECONDS <= seconds <= TEMPORARY_MAX_SECONDS:
        raise ChannelError(
            _("expire_seconds: a temporary code lives %(low)d seconds to 30 days (%(high)s seconds)."),
            {"low": TEMPORARY_MIN_SECONDS, "high": f"{TEMPORARY_MAX_SECONDS:,}"},
            code="channels.expire_seconds",
        )
    return seconds


def create_qrcode(actor: Actor, account: OfficialAccount, channel_id: int, ask: QrRequest) -> QrCode:
    """A parametric QR code for the channel's scene, made by WeChat; WeChat's limits checked first."""
    channel = channel_of(account, channel_id)
    seconds = _check(account, ask)
    scene = _wechat_scene(channel.scene, ask.kind)
    with client_for(account) as client:
        if ask.kind == QrKind.PERMANENT:
            made = wechat_qrcode.permanent(client, scene)
        else:
            made = wechat_qrcode.temporary(client, scene, seconds or TEMPORARY_MAX_SECONDS)
    expires_at = None if made.expire_seconds is None else _now() + timedelta(seconds=made.expire_seconds)
    with transaction.atomic():
        code = QrCode.objects.create(
            channel=channel,
            kind=ask.kind,
            ticket=made.ticket,
            url=made.url,
            expires_at=expires_at,
            created_by=actor_label(actor),
        )
        record(
            actor,
            "channels.qrcode_create",
            account=account,
            target=channel.name,
            changes={"kind": ask.kind, "expire_seconds": made.expire_seconds, "qrcode": code.pk},
        )
    return code


def qrcode_of(account: OfficialAccount, channel_id: int, qrcode_id: int) -> QrCode:
    code = (
        QrCode.objects.filter(pk=qrcode_id, channel_id=channel_id, channel__account=account)
        .select_related("channel")
        .first()
    )
    if code is None:
        raise NoSuchChannel(_("No such QR code on this account."))
    return code


@dataclass(frozen=True)
class QrImage:
    content: bytes
    content_type: str
    filename: str


def image_host(account: OfficialAccount) -> str:
    """WeChat serves QR images from mp.weixin.qq.com, not from its API host; a simulator or a proxy in
    front of the API (any other base URL) serves them itself."""
    host = (urlsplit(account.api_base_url).hostname or "").lower()
    if host == "weixin.qq.com" or host.endswith(".weixin.qq.com"):
        return wechat_qrcode.IMAGE_HOST
    return account.api_base_url


_EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/jpg": "jpg", "image/gif": "gif"}


def _filename(code: QrCode) -> str:
    """ASCII only, so every browser saves it as named: the scene, the kind, the code's number."""
    scene = "".join(c if c.isascii() and (c.isalnum() or c in "-_") else "_" for c in code.channel.scene)
    extension = _EXTENSIONS.get(code.image_type, "img")
    return f"qrcode-{scene}-{code.kind}-{code.pk}.{extension}"


def qrcode_image(account: OfficialAccount, channel_id: int, qrcode_id: int) -> QrImage:
    """The code's image: fetched from WeChat the first time, then served from our copy (a ticket's image
    never changes, and WeChat stops serving a temporary code's image when it expires)."""
    code = qrcode_of(account, channel_id, qrcode_id)
    if code.image is None:
        if code.expires_at is not None and code.expires_at <= _now():
            raise ChannelError(
                _("This temporary code has expired and WeChat no longer serves its image."),
                code="channels.expired",
                status=410,
            )
        with client_for(account) as client:
            try:
                got = wechat_qrcode.image(client, code.ticket, host=image_host(account))
            except PermanentError as exc:
                if exc.errcode is not None:
                    raise
                raise ChannelError(
                    _("WeChat does not serve this code's image (%(detail)s)."),
                    {"detail": exc.errmsg},
                    code="channels.image",
                    status=502,
                ) from None
        content_type = got.content_type.lower()
        if content_type not in _EXTENSIONS:
            # Served from our own origin: anything but an image (an HTML error page) is never passed on.
            raise ChannelError(
                _("WeChat answered with %(type)s instead of the code's image."),
                {"type": content_type or "nothing"},
                code="channels.image",
                status=502,
            )
        QrCode.objects.filter(pk=code.pk, image__isnull=True).update(
            image=got.content, image_type=content_type
        )
        code.image, code.image_type = got.content, content_type
    return QrImage(bytes(code.image), code.image_type, _filename(code))
