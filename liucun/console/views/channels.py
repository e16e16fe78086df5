"""Channels and their QR codes from the console. The channels app does the work; refusals reach the operator
through account_page (console/scope.py), on the page they acted from."""

from __future__ import annotations

from datetime import datetime

from django.contrib import messages
from django.db.models import BooleanField, Case, Value, When
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from liucun.accounts.models import OfficialAccount
from liucun.channels import actions, queries
from liucun.channels.models import (
    NAME_MAX_CHARS,
    NOTE_MAX_CHARS,
    SCENE_MAX_CHARS,
    Channel,
    QrCode,
    QrKind,
)
from liucun.console.scope import ConsoleRequest, account_page
from liucun.staff.models import Role

SECONDS_A_DAY = 86400


def _channel(account: OfficialAccount, channel_id: int) -> Channel:
    """Another account's channel is a page that does not exist, as a wrong appid is."""
    try:
        return actions.channel_of(account, channel_id)
    except actions.NoSuchChannel:
        raise Http404("no such channel") from None


LIMITS = {"scene_max": SCENE_MAX_CHARS, "name_max": NAME_MAX_CHARS, "note_max": NOTE_MAX_CHARS}


@account_page(Role.OPERATOR)
@require_GET
def channels_page(request: ConsoleRequest, account: OfficialAccount) -> HttpResponse:
    page = queries.channels_page(account.pk)
    context = {"nav": "channels", "page": page, **LIMITS}
    return render(request, "console/channels.html", context)


@account_page(Role.OPERATOR)
@require_POST
def channel_create(request: ConsoleRequest, account: OfficialAccount) -> HttpResponse:
    channel = actions.create_channel(
        request.user,
        account,
        request.POST.get("scene", ""),
        request.POST.get("name", ""),
        request.POST.get("note", ""),
    )
    messages.success(request, _("Channel “%(name)s” created.") % {"name": channel.name})
    return redirect("console:channel", appid=account.appid, channel_id=channel.pk)


class _CodeRow:
    """A code as the page shows it: its image is offered while WeChat serves it or once we hold a copy."""

    def __init__(self, code: QrCode, now: datetime) -> None:
        self.code = code
        self.expired = code.expires_at is not None and code.expires_at <= now
        self.has_image = bool(code.has_image)  # type: ignore[attr-defined]  # annotated by the query
        self.showable = self.has_image or not self.expired


@account_page(Role.OPERATOR)
@require_GET
def channel_detail(request: ConsoleRequest, account: OfficialAccount, channel_id: int) -> HttpResponse:
    channel = _channel(account, channel_id)
    now = timezone.now()
    codes = (
        QrCode.objects.filter(channel=channel)
        .defer("image")
        .annotate(
            has_image=Case(
                When(image__isnull=True, then=Value(False)), default=Value(True), output_field=BooleanField()
            )
        )
        .order_by("-created_at", "-pk")
    )
    context = {
        "nav": "channels",
        "channel": channel,
        "fans": queries.fans_of_scene(account.pk, channel.scene),
        "codes": [_CodeRow(c, now) for c in codes],
        "max_days": actions.TEMPORARY_MAX_SECONDS // SECONDS_A_DAY,
        **LIMITS,
    }
    return render(request, "console/channel_detail.html", context)


@account_page(Role.OPERATOR)
@require_POST
def channel_update(request: ConsoleRequest, account: OfficialAccount, channel_id: int) -> HttpResponse:
    _channel(account, channel_id)
    actions.update_channel(
        request.user, account, channel_id, request.POST.get("name", ""), request.POST.get("note", "")
    )
    messages.success(request, _("Channel saved."))
    return redirect("console:channel", appid=account.appid, channel_id=channel_id)


@account_page(Role.OPERATOR)
@require_POST
def channel_delete(request: ConsoleRequest, account: OfficialAccount, channel_id: int) -> HttpResponse:
    _channel(account, channel_id)
    actions.delete_channel(request.user, account, channel_id)
    messages.success(request, _("Channel deleted; its fans keep their scene."))
    return redirect("console:channels", appid=account.appid)


def _lifetime(raw: str) -> int | None:
    """Days from the form as seconds; what is not a whole number of days is passed on as out of range, for
    the action to refuse with the limits."""
    raw = raw.strip()
    if not raw:
        return None
    return int(raw) * SECONDS_A_DAY if raw.isdigit() and len(raw) <= 6 else -1


@account_page(Role.OPERATOR)
@require_POST
def channel_qrcode_create(request: ConsoleRequest, account: OfficialAccount, channel_id: int) -> HttpResponse:
    _channel(account, channel_id)
    kind = request.POST.get("kind", "")
    seconds = _lifetime(request.POST.get("days", "")) if kind == QrKind.TEMPORARY else None
    actions.create_qrcode(request.user, account, channel_id, actions.QrRequest(kind, seconds))
    messages.success(request, _("QR code created."))
    return redirect("console:channel", appid=account.appid, channel_id=channel_id)


@account_page(Role.OPERATOR)
@require_GET
def channel_qrcode_image(
    request: ConsoleRequest, account: OfficialAccount, channel_id: int, qrcode_id: int
) -> HttpResponse:
    try:
        image = actions.qrcode_image(account, channel_id, qrcode_id)
    except actions.NoSuchChannel:
        raise Http404("no such QR code") from None
    response = HttpResponse(image.content, content_type=image.content_type)
    disposition = "attachment" if request.GET.get("download") else "inline"
    response["Content-Disposition"] = f'{disposition}; filename="{image.filename}"'
    response["Cache-Control"] = "private, max-age=86400"
    response["X-Content-Type-Options"] = "nosniff"
    return response
