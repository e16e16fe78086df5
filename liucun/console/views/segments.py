"""Saved fan filters in the console: save the fan list's filter, apply one, list them with versions.

Reads go to liucun.segments.queries, writes to liucun.segments.actions. Applying a saved filter opens
the fan list with the filter in its query string, so paging, sorting, export and bulk tagging work on
it as on any filter; `saved=<id>` in that query string only labels the list.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.db.models import Prefetch
from django.http import Http404, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from liucun.accounts.models import OfficialAccount
from liucun.console.forms import FanFilterForm, filter_query
from liucun.console.scope import ConsoleRequest, account_page
from liucun.fans.filters import FanFilter, FilterError, conditions
from liucun.segments import actions
from liucun.segments.models import SavedFilter, SavedFilterVersion
from liucun.segments.queries import MISSING_TAG, problems_of, version_of
from liucun.staff.models import Role
from liucun.tags.queries import tag_choices


def saved_choices(account: OfficialAccount) -> list[tuple[int, str, int]]:
    """(id, name, current version) of the account's saved filters, for the fan list's picker."""
    rows = SavedFilter.objects.filter(account=account).order_by("name", "id")
    return list(rows.values_list("pk", "name", "version"))


@account_page(Role.AGENT)
def saved_filters(request: ConsoleRequest, account: OfficialAccount) -> HttpResponse:
    tags = dict(tag_choices(account))
    newest_first = SavedFilterVersion.objects.order_by("-version")
    rows = SavedFilter.objects.filter(account=account).order_by("name", "id")
    listed = []
    for saved in rows.prefetch_related(Prefetch("versions", queryset=newest_first)):
        versions = [_described(saved, v, tags) for v in saved.versions.all()]
        # Every saved filter has a version (made in the same transaction); the first is the current one.
        listed.append({"saved": saved, "versions": versions, "problem": versions[0]["problem"]})
    return render(request, "console/saved_filters.html", {"listed": listed})


@account_page(Role.AGENT)
def saved_apply(request: ConsoleRequest, account: OfficialAccount) -> HttpResponse:
    """Open the fan list on a saved filter (?filter=<id>, optionally &version=<n>)."""
    if not request.GET.get("filter"):
        return redirect("console:saved-filters", appid=account.appid)  # the picker, sent with nothing
    saved = _saved(account, request.GET["filter"])
    version = request.GET.get("version", "")
    try:
        row = version_of(saved, int(version) if version.isdigit() else None)
        filt = FanFilter.from_json(row.filter)
    except SavedFilterVersion.DoesNotExist:
        raise Http404("no such version") from None
    except FilterError as exc:
        messages.error(request, _("This saved filter cannot be read: %(reason)s") % {"reason": exc})
        return redirect("console:saved-filters", appid=account.appid)
    if problems_of(saved, filt):
        messages.error(
            request,
            _("“%(name)s” names a tag that no longer exists, so it matches no fans.") % {"name": saved.name},
        )
        return redirect("console:saved-filters", appid=account.appid)
    marker = {"saved": saved.pk} | ({"version": row.version} if row.version != saved.version else {})
    query = urlencode({**filter_query(filt), **marker})
    return redirect(reverse("console:fans", kwargs={"appid": account.appid}) + "?" + query)


@account_page(Role.OPERATOR)
@require_POST
def saved_save(request: ConsoleRequest, account: OfficialAccount) -> HttpResponse:
    """Save the fan list's filter under a new name, or as the next version of a saved filter."""
    shown = QueryDict(request.POST.get("filter", ""), mutable=True)
    form = FanFilterForm(shown, tags=tag_choices(account))
    if not form.is_valid():
        messages.error(request, _("The fan filter is not valid."))
        return _back_to_list(account, shown)
    # The form offers both: a new name (Save), or the picked filter's next version (as_version).
    target = request.POST.get("filter_id", "") if request.POST.get("as_version") else ""
    try:
        if target:
            saved = actions.update_saved_filter(request.user, _saved(account, target), form.fan_filter())
            message = _("Saved as version %(version)d of “%(name)s”.")
        else:
            saved = actions.create_saved_filter(
                request.user, account, request.POST.get("name", ""), form.fan_filter()
            )
            message = _("Saved as “%(name)s”.")
    except actions.SavedFilterError as exc:
        messages.error(request, str(exc))
        return _back_to_list(account, shown)
    messages.success(request, message % {"name": saved.name, "version": saved.version})
    shown.pop("version", None)
    shown["saved"] = str(saved.pk)
    return _back_to_list(account, shown)


@account_page(Role.OPERATOR)
@require_POST
def saved_rename(request: ConsoleRequest, account: OfficialAccount, filter_id: int) -> HttpResponse:
    saved = get_object_or_404(SavedFilter, account=account, pk=filter_id)
    try:
        actions.rename_saved_filter(request.user, saved, request.POST.get("name", ""))
    except actions.SavedFilterError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Saved filter renamed."))
    return redirect("console:saved-filters", appid=account.appid)


@account_page(Role.OPERATOR)
@require_POST
def saved_delete(request: ConsoleRequest, account: OfficialAccount, filter_id: int) -> HttpResponse:
    saved = get_object_or_404(SavedFilter, account=account, pk=filter_id)
    actions.delete_saved_filter(request.user, saved)
    messages.success(request, _("Saved filter “%(name)s” deleted.") % {"name": saved.name})
    return redirect("console:saved-filters", appid=account.appid)


def _saved(account: OfficialAccount, raw: str) -> SavedFilter:
    if not raw.isdigit():
        raise Http404("no such saved filter")
    return get_object_or_404(SavedFilter, account=account, pk=int(raw))


def _back_to_list(account: OfficialAccount, query: QueryDict) -> HttpResponse:
    query.pop("page", None)
    url = reverse("console:fans", kwargs={"appid": account.appid})
    return redirect(f"{url}?{query.urlencode()}" if query else url)


def _described(saved: SavedFilter, row: SavedFilterVersion, tags: dict[int, str]) -> dict[str, Any]:
    """A version in words: each set condition with its label, and why it matches nothing if it cannot."""
    try:
        filt = FanFilter.from_json(row.filter)
    except FilterError as exc:
        return {"row": row, "conditions": [], "problem": str(exc)}
    problems = problems_of(saved, filt, set(tags))
    return {
        "row": row,
        "conditions": [
            (c.label, _value(c.kind, getattr(filt, c.name), tags))
            for c in conditions()
            if getattr(filt, c.name) is not None
        ],
        "problem": _("names a tag that no longer exists, so it matches no fans")
        if MISSING_TAG in problems
        else "",
    }


def _value(kind: str, value: Any, tags: dict[int, str]) -> str:
    if kind == "bool":
        return _("Yes") if value else _("No")
    if kind == "tag":
        return tags.get(value, _("deleted tag #%(id)d") % {"id": value})
    if kind == "moment":
        return date_format(timezone.localtime(value), "Y-m-d H:i")
    return str(value) if value != "" else _("(none)")
