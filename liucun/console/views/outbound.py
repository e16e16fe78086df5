"""The fan page's sending part: the window, a reply composer and everything sent to the fan.

Rendered by the fan page as a placeholder that loads this view (console/partials/fan_outbound.html), so
the fan page reads nothing of the outbound log itself. The composer carries an idempotency key made when
it is rendered: a double click, or the same form sent twice, is one message.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from liucun.accounts.models import OfficialAccount
from liucun.console.composer import KINDS as COMPOSER_KINDS
from liucun.console.composer import composed
from liucun.console.scope import ConsoleRequest, account_page
from liucun.fans.models import Fan
from liucun.outbound import actions
from liucun.outbound.models import OutboundMessage, Source, Status
from liucun.outbound.queries import fan_outbound
from liucun.outbound.window import window_of
from liucun.refusals import Refused
from liucun.staff.models import Role

TEMPLATE = "console/partials/fan_outbound.html"


@account_page(Role.AGENT)
@require_GET
def fan_outbound_part(request: ConsoleRequest, account: OfficialAccount, openid: str) -> HttpResponse:
    return _render(request, account, _fan(account, openid))


@account_page(Role.AGENT)
@require_POST
def fan_send(request: ConsoleRequest, account: OfficialAccount, openid: str) -> HttpResponse:
    fan = _fan(account, openid)
    try:
        message = actions.queue_message(
            account_id=account.pk,
            openid=fan.openid,
            content=composed(request.POST),
            key=request.POST.get("key", ""),
            source=Source.AGENT,
            staff_id=request.user.pk,
        )
        message = actions.deliver_now(message)
    except Refused as exc:
        if not request.htmx:
            raise
        # The composer stays as it was, with its key, so fixing the text and sending again is one message.
        return _render(request, account, fan, problem=exc.message, draft=request.POST)
    note = _outcome(message)
    if not request.htmx:
        (messages.success if message.status in (Status.SENT, Status.QUEUED) else messages.error)(
            request, note
        )
        return redirect("console:fan", appid=account.appid, openid=fan.openid)
    return _render(request, account, fan, outcome=note, outcome_ok=message.status == Status.SENT)


@account_page(Role.AGENT)
@require_POST
def fan_send_again(
    request: ConsoleRequest, account: OfficialAccount, openid: str, message_id: int
) -> HttpResponse:
    fan = _fan(account, openid)
    old = OutboundMessage.objects.filter(account=account, openid=fan.openid, pk=message_id).first()
    if old is None:
        raise Http404("no such message")
    try:
        message = actions.send_again(old.pk, key=request.POST.get("key", ""), staff_id=request.user.pk)
        message = actions.deliver_now(message)
    except Refused as exc:
        if not request.htmx:
            raise
        return _render(request, account, fan, problem=exc.message)
    if not request.htmx:
        messages.info(request, _outcome(message))
        return redirect("console:fan", appid=account.appid, openid=fan.openid)
    return _render(request, account, fan, outcome=_outcome(message), outcome_ok=message.status == Status.SENT)


def _fan(account: OfficialAccount, openid: str) -> Fan:
    fan = (
        Fan.objects.filter(account=account, openid=openid)
        .only("id", "openid", "is_following", "follow_state_at", "last_message_at", "last_event_at")
        .first()
    )
    if fan is None:
        raise Http404("no such fan")
    return fan


def _render(
    request: ConsoleRequest,
    account: OfficialAccount,
    fan: Fan,
    *,
    problem: str = "",
    outcome: str = "",
    outcome_ok: bool = False,
    draft: Any = None,
) -> HttpResponse:
    window = window_of(fan, account.pk, fan.openid, datetime.now(UTC))
    context = {
        "fan": fan,
        "loaded": True,
        "window": window,
        "hours_left": window.seconds_left // 3600,
        "minutes_left": window.seconds_left % 3600 // 60,
        "sent": fan_outbound(account.pk, fan.openid),
        # A new key for each rendering of the composer: a new message. The same page sent twice: one.
        "key": draft.get("key", "") if draft is not None else secrets.token_urlsafe(16),
        "draft": draft or {},
        "kinds": COMPOSER_KINDS,
        "problem": problem,
        "outcome": outcome,
        "outcome_ok": outcome_ok,
        "resend_key": secrets.token_urlsafe(16),
    }
    return render(request, TEMPLATE, context)


def _outcome(message: OutboundMessage) -> str:
    if message.status == Status.SENT:
        return _("Sent: WeChat delivered the message.")
    if message.status in (Status.QUEUED, Status.SENDING):
        return _("Queued: the message is being sent.")
    return message.error or _("Not sent.")
