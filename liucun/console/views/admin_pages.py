"""Account settings, staff roles and the audit log: admins only."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from liucun.accounts.actions import update_account
from liucun.accounts.models import OfficialAccount
from liucun.console.forms import AccountSettingsForm
from liucun.console.scope import ConsoleRequest, account_page
from liucun.console.views.staff_access import staff_context
from liucun.staff import audit_log as audit_log_queries
from liucun.staff.actions import colleague, grant_role, revoke_role
from liucun.staff.models import Role

SETTINGS_FIELDS = ("name", "welcome_text", "sync_every_hours", "privacy_on_unfollow")


@account_page(Role.ADMIN)
def account_settings(request: ConsoleRequest, account: OfficialAccount) -> HttpResponse:
    initial = {name: getattr(account, name) for name in SETTINGS_FIELDS}
    form = AccountSettingsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        changes = {k: v for k, v in form.cleaned_data.items() if initial.get(k) != v}
        try:
            if changes:
                update_account(account, actor=request.user, **changes)
            messages.success(request, _("Settings saved."))
            return redirect("console:settings", appid=account.appid)
        except ValidationError as exc:
            form.add_error(None, exc)
    return render(request, "console/settings.html", {"form": form, "account": account})


@account_page(Role.ADMIN)
def staff_page(request: ConsoleRequest, account: OfficialAccount) -> HttpResponse:
    return render(request, "console/staff.html", staff_context(account))


@account_page(Role.ADMIN)
@require_POST
def staff_grant(request: ConsoleRequest, account: OfficialAccount) -> HttpResponse:
    """A role for someone the admin already works with; anyone else is invited (views/staff_access.py)."""
    role = request.POST.get("role", "")
    if role not in Role.values:
        messages.error(request, _("Unknown role."))
    else:
        grant_role(
            request.user, colleague(request.user, request.POST.get("username", "")), account, Role(role)
        )
        messages.success(request, _("Role granted."))
    return redirect("console:staff", appid=account.appid)


@account_page(Role.ADMIN)
@require_POST
def staff_revoke(request: ConsoleRequest, account: OfficialAccount, user_id: int) -> HttpResponse:
    user = get_user_model().objects.filter(pk=user_id).first()
    if user is not None and user.pk != request.user.pk and revoke_role(request.user, user, account):
        messages.success(request, _("Role revoked."))
    else:
        messages.error(request, _("That role cannot be revoked here."))
    return redirect("console:staff", appid=account.appid)


@account_page(Role.ADMIN)
def audit_log(request: ConsoleRequest, account: OfficialAccount) -> HttpResponse:
    """Staff actions by default; automatic ones grouped per day, or one day's entries in full."""
    who = request.GET.get("who", "staff")
    who = who if who in audit_log_queries.WHO else "staff"
    action = request.GET.get("action", "").strip()
    actor = request.GET.get("actor", "").strip()
    day = _day(request.GET.get("day", ""))
    found = audit_log_queries.entries(account, who=who, action=action, actor=actor, day=day)
    grouping = who == "automatic" and day is None
    if grouping:
        rows: Any = audit_log_queries.grouped(found)
    else:
        rows = (
            found.order_by("at", "id")
            if request.GET.get("ordering") == "at"
            else found.order_by("-at", "-id")
        )
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    context = {"page": page, "action": action, "actor": actor, "who": who, "whos": audit_log_queries.WHO,
               "grouped": grouping, "day": day}  # fmt: skip
    return render(request, "console/audit.html", context)


def _day(text: str) -> date | None:
    try:
        return parse_date(text.strip()) if text else None
    except ValueError:  # well-formed but impossible, such as 2026-02-30
        return None
