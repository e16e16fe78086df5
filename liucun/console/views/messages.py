"""The inbox list (the messages page grew into it) and the raw message log it came from.

The list is the account's conversations (liucun.inbox): mine, unassigned, all, window closing soon, oldest
waiting first, 50 a page; its rows and tab counts poll themselves every few seconds, so new messages show
without a reload.
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse

from liucun.accounts.models import OfficialAccount
from liucun.console.converters import OpenIdConverter
from liucun.console.scope import ConsoleRequest, account_page
from liucun.events.kinds import MESSAGE_KINDS_ORDERED
from liucun.events.models import Event
from liucun.inbox.queries import STATES, VIEWS, is_available, list_page, tab_counts
from liucun.staff.models import Role

PAGE_SIZE = 50
MESSAGE_KINDS = MESSAGE_KINDS_ORDERED
_OPENID = OpenIdConverter()


def _list_context(request: ConsoleRequest, account: OfficialAccount) -> dict[str, object]:
    view = request.GET.get("view", "")
    if view not in VIEWS:
        view = "mine" if request.role == Role.AGENT else "all"
    state = request.GET.get("state", "open")
    if state not in STATES:
        state = "open"
    page = request.GET.get("page", "1")
    now = datetime.now(UTC)
    user_id = request.user.pk
    listing = list_page(
        account.pk, user_id, view=view, state=state, page=int(page) if page.isdigit() else 1, now=now
    )
    # One reverse for the page, not one a row.
    base = reverse("console:conversation", args=[account.appid, "x"]).removesuffix("x/")
    for row in listing.rows:
        row.href = f"{base}{_OPENID.to_url(row.conversation.openid)}/"
    return {
        "view": view,
        "state": state,
        "views": VIEWS,
        "states": STATES,
        "listing": listing,
        "counts": tab_counts(account.pk, user_id, now),
        "now": now,
    }


@account_page(Role.AGENT)
def messages_page(request: ConsoleRequest, account: OfficialAccount) -> HttpResponse:
    context = _list_context(request, account)
    context["available"] = is_available(account.pk, request.user.pk)
    context["nav"] = "messages"
    return render(request, "console/inbox.html", context)


@account_page(Role.AGENT)
def inbox_rows(request: ConsoleRequest, account: OfficialAccount) -> HttpResponse:
    """The list's rows and counts as the poll sees them."""
    return render(request, "console/partials/inbox_rows.html", _list_context(request, account))


@account_page(Role.AGENT)
def message_log(request: ConsoleRequest, account: OfficialAccount) -> HttpResponse:
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
        "nav": "messages",
    }
    return render(request, "console/messages.html", context)
