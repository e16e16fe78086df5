"""Tags and the blacklist from the console. The tags app does the work, two-way with WeChat."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from liucun.accounts.models import OfficialAccount
from liucun.console.forms import FanFilterForm
from liucun.console.joblists import job_history
from liucun.console.polling import progress_row
from liucun.console.scope import ConsoleRequest, account_page
from liucun.jobs.actions import NotResumable
from liucun.staff.models import Role
from liucun.tags import actions
from liucun.tags import queries as tag_queries
from liucun.tags.models import Tag, TagJob
from liucun.tags.queries import tag_choices


def _back(request: ConsoleRequest, account: OfficialAccount, default: str = "console:tags") -> HttpResponse:
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return redirect(target)
    return redirect(default, appid=account.appid)


def _run(request: ConsoleRequest, work: object) -> bool:
    """Run an action, saying so when it became a job. Its refusals reach the operator through
    account_page (console/scope.py), which shows them on the page they came from."""
    result = work() if callable(work) else work
    if isinstance(result, TagJob):
        messages.info(
            request, _("Job %(job)s started; progress shows on the tags page.") % {"job": result.pk}
        )
    return True


@account_page(Role.AGENT)
def tags_page(request: ConsoleRequest, account: OfficialAccount) -> HttpResponse:
    name = request.GET.get("name", "").strip()
    context = {
        "tags": tag_queries.tags_with_counts(account, request.GET.get("ordering", ""), name),
        "name": name,
        "used": Tag.objects.filter(account=account).count(),
        "jobs": TagJob.objects.filter(account=account).select_related("tag").order_by("-id")[:10],
        "limit": actions.MAX_TAGS_PER_ACCOUNT,
    }
    return render(request, "console/tags.html", context)


@account_page(Role.OPERATOR)
@require_POST
def tag_create(request: ConsoleRequest, account: OfficialAccount) -> HttpResponse:
    name = request.POST.get("name", "").strip()
    if _run(request, lambda: actions.create_tag(request.user, account, name)):
        messages.success(request, _("Tag “%(name)s” created.") % {"name": name})
    return redirect("console:tags", appid=account.appid)


@account_page(Role.OPERATOR)
@require_POST
def tag_rename(request: ConsoleRequest, account: OfficialAccount, tag_id: int) -> HttpResponse:
    name = request.POST.get("name", "").strip()
    if _run(request, lambda: actions.rename_tag(request.user, account, tag_id, name)):
        messages.success(request, _("Tag renamed."))
    return redirect("console:tags", appid=account.appid)


@account_page(Role.OPERATOR)
@require_POST
def tag_delete(request: ConsoleRequest, account: OfficialAccount, tag_id: int) -> HttpResponse:
    if _run(request, lambda: actions.delete_tag(request.user, account, tag_id)):
        messages.success(request, _("Tag deleted."))
    return redirect("console:tags", appid=account.appid)


@account_page(Role.OPERATOR)
@require_POST
def tags_pull(request: ConsoleRequest, account: OfficialAccount) -> HttpResponse:
    _run(request, lambda: actions.start_pull_tags(request.user, account))
    return redirect("console:tags", appid=account.appid)


def _tag_id(request: ConsoleRequest, account: OfficialAccount) -> int:
    raw = request.POST.get("tag", "")
    if not raw.isdigit() or int(raw) not in {pk for pk, _name in tag_choices(account)}:
        raise Http404("no such tag")
    return int(raw)


@account_page(Role.OPERATOR)
@require_POST
def tags_bulk(request: ConsoleRequest, account: OfficialAccount) -> HttpResponse:
    """Tag or untag the fans ticked on a fan list page, or every fan matching its filter."""
    tag_id = _tag_id(request, account)
    action = request.POST.get("action", "")
    if action == "tag-all":
        form = FanFilterForm(QueryDict(request.POST.get("filter", "")), tags=tag_choices(account))
        if not form.is_valid():
            messages.error(request, _("The fan filter is not valid."))
            return _back(request, account, "console:fans")
        # The job stores the filter, never the matching openids (there may be hundreds of thousands).
        fan_filter = form.fan_filter()
        _run(request, lambda: actions.tag_fans_matching(request.user, account, tag_id, fan_filter))
        return _back(request, account, "console:fans")
    openids = request.POST.getlist("openid")
    if not openids:
        messages.error(request, _("Tick at least one fan first."))
    elif action in ("tag", "untag"):
        do = actions.tag_fans if action == "tag" else actions.untag_fans
        if _run(request, lambda: do(request.user, account, tag_id, openids)):
            messages.success(request, _("%(n)d fans updated.") % {"n": len(openids)})
    return _back(request, account, "console:fans")


@account_page(Role.OPERATOR)
@require_POST
def fan_tags(request: ConsoleRequest, account: OfficialAccount, openid: str) -> HttpResponse:
    tag_id = _tag_id(request, account)
    do = actions.untag_fans if request.POST.get("action") == "untag" else actions.tag_fans
    _run(request, lambda: do(request.user, account, tag_id, [openid]))
    return redirect("console:fan", appid=account.appid, openid=openid)


@account_page(Role.AGENT)
def tag_jobs_page(request: ConsoleRequest, account: OfficialAccount) -> HttpResponse:
    jobs = TagJob.objects.filter(account=account).select_related("tag")
    return render(request, "console/tag_jobs.html", job_history(request, jobs))


@account_page(Role.AGENT)
def tag_job_progress(request: ConsoleRequest, account: OfficialAccount, job_id: int) -> HttpResponse:
    job = get_object_or_404(TagJob.objects.select_related("tag"), account=account, pk=job_id)
    return progress_row(request, job, "console/partials/tag_job_row.html")


@account_page(Role.OPERATOR)
@require_POST
def tag_job_resume(request: ConsoleRequest, account: OfficialAccount, job_id: int) -> HttpResponse:
    try:
        actions.resume_tag_job(request.user, account, job_id)
        messages.success(request, _("Job %(job)s resumes after its last finished batch.") % {"job": job_id})
    except NotResumable:
        messages.error(request, _("Only a failed job can be resumed."))
    return redirect("console:tag-jobs", appid=account.appid)


@account_page(Role.AGENT)
def blacklist_page(request: ConsoleRequest, account: OfficialAccount) -> HttpResponse:
    openid = request.GET.get("openid", "").strip()
    entries = tag_queries.blacklist(account, request.GET.get("ordering", ""), openid)
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    return render(request, "console/blacklist.html", {"page": page, "openid": openid})


@account_page(Role.OPERATOR)
@require_POST
def blacklist_sync(request: ConsoleRequest, account: OfficialAccount) -> HttpResponse:
    if _run(request, lambda: actions.sync_blacklist(request.user, account)):
        messages.success(request, _("Blacklist read from WeChat."))
    return redirect("console:blacklist", appid=account.appid)


@account_page(Role.OPERATOR)
@require_POST
def blacklist_change(request: ConsoleRequest, account: OfficialAccount) -> HttpResponse:
    openids = [o for o in request.POST.getlist("openid") if o]
    do = actions.unblacklist_fans if request.POST.get("action") == "remove" else actions.blacklist_fans
    if openids and _run(request, lambda: do(request.user, account, openids)):
        messages.success(request, _("Blacklist updated."))
    return _back(request, account, "console:blacklist")
