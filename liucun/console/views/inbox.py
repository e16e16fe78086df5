"""A conversation (thread, window, composer, notes, assignment), canned replies, inbox settings, metrics.

Validation and orchestration only: the writes are liucun.inbox.actions, refusals are shown by
account_page. Agents work conversations; operators manage canned replies and see metrics; admins set
the response commitment.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from liucun.accounts.models import OfficialAccount
from liucun.console.composer import composed
from liucun.console.scope import ConsoleRequest, account_page
from liucun.fans.models import Fan
from liucun.inbox import actions, queries
from liucun.inbox.assignment import settings_for
from liucun.inbox.commitment import Commitment, schedule_of
from liucun.inbox.models import CannedReply, Conversation
from liucun.inbox.refusals import InboxRefused
from liucun.outbound.window import window_of
from liucun.staff.models import Role

METRIC_PERIODS = (1, 7, 30)


def _conversation(account: OfficialAccount, openid: str) -> Conversation | None:
    return (
        Conversation.objects.filter(account=account, openid=openid)
        .select_related("assigned_to", "account")
        .first()
    )


def _back(account: OfficialAccount, openid: str) -> HttpResponseRedirect:
    return HttpResponseRedirect(reverse("console:conversation", args=[account.appid, openid]))


def _required(account: OfficialAccount, openid: str) -> Conversation:
    conversation = _conversation(account, openid)
    if conversation is None:
        raise Http404("no conversation with this fan")
    return conversation


@account_page(Role.AGENT)
def conversation_page(request: ConsoleRequest, account: OfficialAccount, openid: str) -> HttpResponse:
    fan = Fan.objects.filter(account=account, openid=openid).first()
    conversation = _conversation(account, openid)
    if fan is None and conversation is None:
        raise Http404("no such fan")
    now = datetime.now(UTC)
    if conversation is not None:
        actions.mark_read(request.user, conversation)
    canned = list(CannedReply.objects.filter(account=account).values("shortcut", "title", "text"))
    items = queries.thread(conversation) if conversation is not None else []
    context = {
        "nav": "messages",
        "openid": openid,
        "fan": fan,
        "conversation": conversation,
        "items": items,
        "seen": queries.thread_fingerprint(items),
        "window": window_of(fan, account.pk, openid, now),
        # A new key each time the composer is shown: the same form sent twice delivers once.
        "composer_key": uuid.uuid4().hex,
        "canned": canned,
        "staff": queries.staff_choices(account.pk),
        "urgency": Commitment(settings_for(account.pk), schedule_of(account.pk)).urgency(conversation, now)
        if conversation is not None
        else "",
    }
    return render(request, "console/inbox_conversation.html", context)


@account_page(Role.AGENT)
def thread(request: ConsoleRequest, account: OfficialAccount, openid: str) -> HttpResponse:
    """The thread as its poll sees it."""
    conversation = _required(account, openid)
    actions.mark_read(request.user, conversation)
    items = queries.thread(conversation)
    seen = queries.thread_fingerprint(items)
    if request.GET.get("seen") == seen:
        # Nothing new: no swap, so the agent's scroll position and selection stay.
        return HttpResponse(status=204)
    return render(
        request, "console/partials/inbox_thread.html", {"items": items, "seen": seen, "openid": openid}
    )


@account_page(Role.AGENT)
@require_POST
def start(request: ConsoleRequest, account: OfficialAccount, openid: str) -> HttpResponse:
    actions.open_conversation(request.user, account, openid)
    return _back(account, openid)


@account_page(Role.AGENT)
@require_POST
def send_reply(request: ConsoleRequest, account: OfficialAccount, openid: str) -> HttpResponse:
    conversation = _required(account, openid)
    seen = request.POST.get("seen", "")
    actions.reply(
        request.user,
        conversation,
        key=request.POST.get("key", ""),
        seen_replies=int(seen) if seen.isdigit() else None,
        message=composed(request.POST, text_field="text"),
    )
    return _back(account, openid)


@account_page(Role.AGENT)
@require_POST
def assign(request: ConsoleRequest, account: OfficialAccount, openid: str) -> HttpResponse:
    conversation = _required(account, openid)
    target = request.POST.get("user", "")
    if target == "me":
        user_id: int | None = request.user.pk
    elif target.isdigit():
        user_id = int(target)
    elif target == "":
        user_id = None
    else:
        raise InboxRefused(_("Choose a colleague."))
    actions.assign(request.user, conversation, user_id, note=request.POST.get("note", ""))
    return _back(account, openid)


@account_page(Role.AGENT)
@require_POST
def resolve(request: ConsoleRequest, account: OfficialAccount, openid: str) -> HttpResponse:
    actions.resolve(request.user, _required(account, openid))
    return _back(account, openid)


@account_page(Role.AGENT)
@require_POST
def note(request: ConsoleRequest, account: OfficialAccount, openid: str) -> HttpResponse:
    actions.add_note(request.user, _required(account, openid), request.POST.get("text", ""))
    return _back(account, openid)


@account_page(Role.AGENT)
@require_POST
def inbox_availability(request: ConsoleRequest, account: OfficialAccount) -> HttpResponse:
    actions.set_available(account, request.user, request.POST.get("available") == "1")
    return HttpResponseRedirect(reverse("console:messages", args=[account.appid]))


@account_page(Role.AGENT)
def canned_replies(request: ConsoleRequest, account: OfficialAccount) -> HttpResponse:
    rows = CannedReply.objects.filter(account=account).order_by("shortcut")
    return render(request, "console/inbox_canned.html", {"nav": "messages", "canned": rows})


@account_page(Role.OPERATOR)
@require_POST
def canned_save(request: ConsoleRequest, account: OfficialAccount) -> HttpResponse:
    canned_id = request.POST.get("id", "")
    actions.save_canned(
        request.user,
        account,
        shortcut=request.POST.get("shortcut", ""),
        title=request.POST.get("title", ""),
        text=request.POST.get("text", ""),
        canned_id=int(canned_id) if canned_id.isdigit() else None,
    )
    return HttpResponseRedirect(reverse("console:canned-replies", args=[account.appid]))


@account_page(Role.OPERATOR)
@require_POST
def canned_delete(request: ConsoleRequest, account: OfficialAccount) -> HttpResponse:
    canned_id = request.POST.get("id", "")
    if not canned_id.isdigit():
        raise InboxRefused(_("No such canned reply."))
    actions.delete_canned(request.user, account, int(canned_id))
    return HttpResponseRedirect(reverse("console:canned-replies", args=[account.appid]))


@account_page(Role.ADMIN)
def inbox_settings(request: ConsoleRequest, account: OfficialAccount) -> HttpResponse:
    if request.method == "POST":
        values: dict[str, object] = {"auto_assign": request.POST.get("auto_assign") == "1"}
        for name in actions.SETTING_LIMITS:
            raw = request.POST.get(name, "").strip()
            if not raw.isdigit():
                raise InboxRefused(_("%(field)s: a whole number."), {"field": name})
            values[name] = int(raw)
        actions.save_settings(request.user, account, **values)
        return HttpResponseRedirect(reverse("console:inbox-settings", args=[account.appid]))
    return render(
        request,
        "console/inbox_settings.html",
        {"nav": "messages", "chosen": settings_for(account.pk), "limits": actions.SETTING_LIMITS},
    )


@account_page(Role.OPERATOR)
def inbox_metrics(request: ConsoleRequest, account: OfficialAccount) -> HttpResponse:
    days = request.GET.get("days", "7")
    period = int(days) if days.isdigit() and int(days) in METRIC_PERIODS else 7
    until = datetime.now(UTC)
    found = queries.metrics(account.pk, until - timedelta(days=period), until)
    return render(
        request,
        "console/inbox_metrics.html",
        {"nav": "messages", "m": found, "days": period, "periods": METRIC_PERIODS},
    )
