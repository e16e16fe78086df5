"""Follower sync from the console: start, resume, and live progress (htmx polls a fragment)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from liucun.accounts.models import OfficialAccount
from liucun.console.joblists import job_history
from liucun.console.polling import progress_row
from liucun.console.scope import ConsoleRequest, account_page
from liucun.fans.actions import resume_follower_sync, start_follower_sync
from liucun.fans.models import SyncJob
from liucun.staff.models import Role


@account_page(Role.AGENT)
def sync_page(request: ConsoleRequest, account: OfficialAccount) -> HttpResponse:
    jobs = SyncJob.objects.filter(account=account)
    return render(request, "console/sync.html", job_history(request, jobs))


@account_page(Role.OPERATOR)
@require_POST
def sync_start(request: ConsoleRequest, account: OfficialAccount) -> HttpResponse:
    job = start_follower_sync(request.user, account)
    messages.success(request, _("Follower sync %(job)s started.") % {"job": job.pk})
    return redirect("console:sync", appid=account.appid)


@account_page(Role.OPERATOR)
@require_POST
def sync_resume(request: ConsoleRequest, account: OfficialAccount, job_id: int) -> HttpResponse:
    resume_follower_sync(request.user, account, job_id)
    messages.success(request, _("Sync %(job)s resumes after its last finished page.") % {"job": job_id})
    return redirect("console:sync", appid=account.appid)


@account_page(Role.AGENT)
def sync_progress(request: ConsoleRequest, account: OfficialAccount, job_id: int) -> HttpResponse:
    job = get_object_or_404(SyncJob, account=account, pk=job_id)
    return progress_row(request, job, "console/partials/sync_row.html")
