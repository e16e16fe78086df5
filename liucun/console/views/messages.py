"""Messages from fans, newest first, with what Liucun answered (the inbox grows out of this page)."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render

from liucun.accounts.models import OfficialAccount
from liucun.console.scope import ConsoleRequest, account_page
from liucun.events.kinds import MESSAGE_KINDS_ORDERED
from liucun.events.models import Event
from liucun.staff.models import Role

PAGE_SIZE = 50
MESSAGE_KINDS = MESSAGE_KINDS_ORDERED


@account_page(Role.AGENT)
def messages_page(request: ConsoleRequest, account: OfficialAccount) -> HttpResponse:
    # Pages by id rather than by count: counting every message of a busy account on each view is wasted.
    before = request.GET.get("before", "")
    kind = request.GET.get("kind", "")
    openid = request.GET.get("openid", "").strip()
    rows = Event.objects.filter(account=account, kind__in=[kind] if kind in MESSAGE_KINDS else MESSAGE_KINDS)
    if openid:
        rows = rows.filter(openid=openid)
    if before.isdigit():
        rows = rows.filter(id__lt=int(before))
    batch = list(rows.order_by("-id")[: PAGE_SIZE + 1])
    more = len(batch) > PAGE_SIZE
    batch = batch[:PAGE_SIZE]
    context = {
        "events": batch,
        "next_before": batch[-1].id if more else None,
        "first": not before,
        "kinds": MESSAGE_KINDS,
        "kind": kind,
        "openid": openid,
    }
    return render(request, "console/messages.html", context)
