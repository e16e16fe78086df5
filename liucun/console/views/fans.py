"""Fan list and fan page. Reads go to liucun.fans.queries; writes to the action functions."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from liucun.accounts.models import OfficialAccount
from liucun.console.forms import FanFilterForm
from liucun.console.scope import ConsoleRequest, account_page
from liucun.console.views.segments import saved_choices
from liucun.fans import privacy, queries
from liucun.fans.models import Fan
from liucun.staff.models import Role
from liucun.tags.queries import tag_choices, tags_of


def filter_form(request: ConsoleRequest, account: OfficialAccount) -> FanFilterForm:
    form = FanFilterForm(request.GET or None, tags=tag_choices(account))
    if request.GET and not form.is_valid():
        return form
    if not request.GET:
        form.is_valid()  # an unbound form has no cleaned_data; give it the defaults
        form.cleaned_data = {}
    return form


@account_page(Role.AGENT)
def fan_list(request: ConsoleRequest, account: OfficialAccount) -> HttpResponse:
    form = filter_form(request, account)
    page: Any = None
    if not form.errors:
        page_size = form.cleaned_data.get("page_size") or 50
        # Slices like a queryset (see PagedFans), which is all Paginator needs.
        fans: Any = queries.fan_pages(account, form.fan_filter(), form.ordering_value())
        page = Paginator(fans, page_size).get_page(request.GET.get("page"))
    saved = saved_choices(account)
    context = {
        "form": form,
        "page": page,
        "open_windows": {f.pk for f in (page.object_list if page else []) if queries.window_open(f)},
        "tags": tag_choices(account),
        "saved_filters": saved,
        "shown_saved": _shown_saved(request, saved),
    }
    template = "console/partials/fan_table.html" if request.htmx else "console/fans.html"
    return render(request, template, context)


def _shown_saved(request: ConsoleRequest, saved: list[tuple[int, str, int]]) -> dict[str, Any] | None:
    """The saved filter this list was opened on (saved_apply puts saved=<id> in the query string)."""
    raw, version = request.GET.get("saved", ""), request.GET.get("version", "")
    for pk, name, current in saved:
        if str(pk) == raw:
            return {"pk": pk, "name": name, "version": int(version) if version.isdigit() else current}
    return None


@account_page(Role.AGENT)
def fan_detail(request: ConsoleRequest, account: OfficialAccount, openid: str) -> HttpResponse:
    try:
        fan, periods, events = queries.timeline(account, openid)
    except Fan.DoesNotExist:
        raise Http404("no such fan") from None
    context = {
        "fan": fan,
        "periods": periods,
        "events": events,
        "window_open": queries.window_open(fan),
        "window_closes": queries.window_closes_at(fan),
        "fan_tags": tags_of(fan),
        "all_tags": tag_choices(account),
        "attributes": sorted((fan.attributes or {}).items()),
    }
    return render(request, "console/fan_detail.html", context)


@account_page(Role.ADMIN)
def fan_export(request: ConsoleRequest, account: OfficialAccount, openid: str) -> HttpResponse:
    try:
        data = privacy.export_fan(account, openid, request.user)
    except Fan.DoesNotExist:
        raise Http404("no such fan") from None
    response = HttpResponse(
        json.dumps(data, ensure_ascii=False, indent=2, default=str), content_type="application/json"
    )
    response["Content-Disposition"] = f'attachment; filename="fan-{openid}.json"'
    return response


@account_page(Role.ADMIN)
@require_POST
def fan_erase(request: ConsoleRequest, account: OfficialAccount, openid: str) -> HttpResponse:
    if not privacy.erase_fan(account, openid, request.user, "request"):
        raise Http404("no such fan")
    messages.success(request, _("Personal data of this fan was erased."))
    return redirect("console:fan", appid=account.appid, openid=openid)
