"""The moments push impact judges, from the console: the list, an import from WeChat's publishing history,
a CSV upload, an annotation, a delete. The pushimpact app does the work; its report is a registered report."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from liucun.accounts.models import OfficialAccount
from liucun.analytics.periods import site_zone
from liucun.console.scope import ConsoleRequest, account_page
from liucun.crm.csvfile import MAX_UPLOAD_BYTES
from liucun.pushimpact import actions
from liucun.pushimpact.models import NOTE_MAX_CHARS, TITLE_MAX_CHARS, Push
from liucun.staff.models import Role

PAGE_SIZE = 50


def _back(account: OfficialAccount) -> HttpResponse:
    return redirect("console:push-list", appid=account.appid)


def _added(request: ConsoleRequest, added: actions.Added) -> None:
    messages.success(
        request,
        _("Pushes added: %(added)d; already known: %(known)d.")
        % {"added": added.added, "known": added.already_known},
    )


@account_page(Role.OPERATOR)
@require_GET
def push_list(request: ConsoleRequest, account: OfficialAccount) -> HttpResponse:
    pushes = Push.objects.filter(account=account).order_by("-at", "-pk")
    page = Paginator(pushes, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "nav": "pushes",
        "page": page,
        "zone": site_zone(),
        "title_max": TITLE_MAX_CHARS,
        "note_max": NOTE_MAX_CHARS,
    }
    return render(request, "console/pushes.html", context)


@account_page(Role.OPERATOR)
@require_POST
def push_annotate(request: ConsoleRequest, account: OfficialAccount) -> HttpResponse:
    at = actions.parse_moment(request.POST.get("date", ""), request.POST.get("time", ""))
    if at is None:
        raise actions.PushRefused(
            _("Give the date and time like 2026-02-01 and 20:00."), code="pushes.moment"
        )
    push = actions.annotate(
        request.user, account, at, request.POST.get("title", ""), request.POST.get("note", "")
    )
    messages.success(request, _("“%(title)s” marked.") % {"title": push.title})
    return _back(account)


@account_page(Role.OPERATOR)
@require_POST
def push_import_csv(request: ConsoleRequest, account: OfficialAccount) -> HttpResponse:
    upload = request.FILES.get("file")
    if upload is None:
        raise actions.PushRefused(_("Choose a CSV file to upload."), code="pushes.csv")
    if (upload.size or 0) > MAX_UPLOAD_BYTES:
        raise actions.PushRefused(
            _("The file is larger than %(n)d MB; split it."), {"n": MAX_UPLOAD_BYTES // (1024 * 1024)}
        )
    try:
        added = actions.import_csv(request.user, account, upload.read(), upload.name or "")
    except actions.PushRefused as refused:
        # One message per problem line, so the operator can fix the sheet in one go.
        for message in refused.messages:
            messages.error(request, message)
        return _back(account)
    _added(request, added)
    return _back(account)


@account_page(Role.OPERATOR)
@require_POST
def push_import_wechat(request: ConsoleRequest, account: OfficialAccount) -> HttpResponse:
    _added(request, actions.import_published(request.user, account))
    return _back(account)


@account_page(Role.OPERATOR)
@require_POST
def push_delete(request: ConsoleRequest, account: OfficialAccount, push_id: int) -> HttpResponse:
    actions.delete_push(request.user, account, push_id)
    messages.success(request, _("Push deleted."))
    return _back(account)
