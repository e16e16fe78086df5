"""Reconciliation with WeChat's statistics: where pulling stands, and "pull now" (the report itself is
the analytics framework's page, reports/reconciliation/)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from liucun.accounts.models import OfficialAccount
from liucun.console.scope import ConsoleRequest, account_page
from liucun.reconcile.actions import request_pull
from liucun.reconcile.status import pull_status
from liucun.staff.models import Role


@account_page(Role.OPERATOR)
def reconcile_page(request: ConsoleRequest, account: OfficialAccount) -> HttpResponse:
    return render(request, "console/reconcile.html", {"status": pull_status(account)})


@account_page(Role.OPERATOR)
@require_POST
def reconcile_pull(request: ConsoleRequest, account: OfficialAccount) -> HttpResponse:
    request_pull(request.user, account)
    messages.success(request, _("Pulling WeChat's statistics; this page shows the progress."))
    return redirect("console:reconcile", appid=account.appid)
