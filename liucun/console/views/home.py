"""The account list and an account's overview."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render

from liucun.accounts.models import OfficialAccount
from liucun.analytics import periods
from liucun.analytics.overview import overview_numbers
from liucun.console.freshness import notices
from liucun.console.scope import ConsoleRequest, account_page
from liucun.fans import stats
from liucun.fans.models import SyncJob
from liucun.readmodels import freshness
from liucun.staff.models import Role
from liucun.staff.permissions import accounts_visible_to, role_on

# overview_numbers reads day_flows (daily follows) and following_lines (following), as the growth report.
OVERVIEW_READS = ("daily-follows", "following")


@login_required
def home(request: ConsoleRequest) -> HttpResponse:
    accounts = list(accounts_visible_to(request.user).order_by("name"))
    if len(accounts) == 1:
        return redirect("console:overview", appid=accounts[0].appid)
    rows = [{"account": a, "role": role_on(request.user, a)} for a in accounts]
    return render(request, "console/home.html", {"rows": rows})


@account_page(Role.AGENT)
def overview(request: ConsoleRequest, account: OfficialAccount) -> HttpResponse:
    last_sync = SyncJob.objects.filter(account=account).order_by("-id").first()
    numbers = overview_numbers(account, periods.today())
    context = {
        "numbers": numbers,
        "series": numbers["series"],
        "channels": numbers["channels"],
        "last_sync": last_sync,
        "history": stats.history_loading(account, last_sync),
        "freshness": notices(freshness.incomplete(OVERVIEW_READS)),
    }
    return render(request, "console/overview.html", context)
