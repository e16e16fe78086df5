"""Fan list and fan page. Reads go to liucun.fans.queries; writes to the action functions."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from liucun.accounts.models import OfficialAccount
from liucun.channels.queries import channel_choices
from liucun.console.converters import OpenIdConverter
from liucun.console.forms import FanFilterForm
from liucun.console.scope import ConsoleRequest, account_page
from liucun.console.views.segments import saved_choices
from liucun.fans import privacy, queries
from liucun.fans.models import Fan
from liucun.staff.models import Role
from liucun.tags.queries import tag_choices, tags_of


def filter_form(
    request: ConsoleRequest,
    account: OfficialAccount,
    *,
    tags: list[tuple[int, str]] | None = None,
    channels: bool = False,
) -> FanFilterForm:
    """The fan filter of the query string; with channels, the channel field offers the account's."""
    offered = channel_choices(account.pk) if channels else None
    tags = tag_choices(account) if tags is None else tags
    form = FanFilterForm(request.GET or None, tags=tags, channels=offered)
    if request.GET and not form.is_valid():
        return form
    if not request.GET:
        form.is_valid()  # an unbound form has no cleaned_data; give it the defaults
        form.cleaned_data = {}
    return form


@account_page(Role.AGENT)
def fan_list(request: ConsoleRequest, account: OfficialAccount) -> HttpResponse:
    # An htmx refresh replaces the table only: the filter form (and its channel list) stays on the page.
    tags = tag_choices(account)
    form = filter_form(request, account, tags=tags, channels=not request.htmx)
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
        "rows": _rows(page.object_list if page is not None else [], dict(tags)),
        "tags": tags,
        "saved_filters": saved,
        "shown_saved": _shown_saved(request, saved),
        # The export takes the list's filter and sort (not its page) from hidden fields.
        "export_params": [
            (name, value)
            for name, values in request.GET.lists()
            if name not in ("page", "headers")
            for value in values
        ],
    }
    template = "console/partials/fan_table.html" if request.htmx else "console/fans.html"
    return render(request, template, context)


def _rows(fans: list[Fan], tags: dict[int, str]) -> list[dict[str, Any]]:
    """What each row of the fan list shows beyond the fan's own fields; the page's tags in one query."""
    now = datetime.now(UTC)
    names = queries.tag_names([f.pk for f in fans], tags)
    return [
        {
            "fan": f,
            "tags": names.get(f.pk, []),
            "stayed": queries.stayed_days(f, now),
            "window_open": queries.window_open(f, now),
        }
        for f in fans
    ]


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
        "state": fan_state(fan),
        "periods": periods,
        "events": events,
        "window_open": queries.window_open(fan),
        "window_closes": queries.window_closes_at(fan),
        "fan_tags": tags_of(fan),
        "all_tags": tag_choices(account),
        "attributes": sorted((fan.attributes or {}).items()),
    }
    return render(request, "console/fan_detail.html", context)


def fan_state(fan: Fan) -> dict[str, Any]:
    """Which actions apply to the fan as they stand. WeChat refuses remarks and tags for anyone who is not
    following, and reaches nobody who left; erasing again changes nothing unless something was recorded
    since the last erasure (a fan who came back)."""
    erased_at = fan.personal_data_erased_at
    erased = erased_at is not None and (
        fan.last_interaction_at is None or fan.last_interaction_at <= erased_at
    )
    return {
        "following": fan.is_following,
        "erased": erased,
        "can_sync_remark": fan.is_following,
        "can_tag": fan.is_following,
        "can_erase": not erased,
        "stayed": queries.stayed_days(fan),
    }


@account_page(Role.ADMIN)
def fan_export(request: ConsoleRequest, account: OfficialAccount, openid: str) -> HttpResponse:
    try:
        data = privacy.export_fan(account, openid, request.user)
    except Fan.DoesNotExist:
        raise Http404("no such fan") from None
    response = HttpResponse(
        json.dumps(data, ensure_ascii=False, indent=2, default=str), content_type="application/json"
    )
    # The name as the fan's URL writes the openid: a stored openid may hold quotes, "/" or line breaks.
    response["Content-Disposition"] = f'attachment; filename="fan-{OpenIdConverter().to_url(openid)}.json"'
    return response


@account_page(Role.ADMIN)
@require_POST
def fan_erase(request: ConsoleRequest, account: OfficialAccount, openid: str) -> HttpResponse:
    if not privacy.erase_fan(account, openid, request.user, "request"):
        raise Http404("no such fan")
    messages.success(request, _("Personal data of this fan was erased."))
    return redirect("console:fan", appid=account.appid, openid=openid)
