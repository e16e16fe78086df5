"""Fan remark and attributes, CSV import and export from the console (the crm app does the work)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from liucun.accounts.models import OfficialAccount
from liucun.console.forms import ImportForm
from liucun.console.joblists import job_history
from liucun.console.polling import progress_row
from liucun.console.scope import ConsoleRequest, account_page
from liucun.console.views.fans import filter_form
from liucun.crm import actions, exports, imports
from liucun.crm.models import ImportJob
from liucun.staff.models import Role
from liucun.tags.queries import tag_choices


@account_page(Role.OPERATOR)
@require_POST
def fan_remark(request: ConsoleRequest, account: OfficialAccount, openid: str) -> HttpResponse:
    actions.set_remark(request.user, account, openid, request.POST.get("remark", "").strip())
    messages.success(request, _("Remark saved and synced to WeChat."))
    return redirect("console:fan", appid=account.appid, openid=openid)


@account_page(Role.OPERATOR)
@require_POST
def fan_attributes(request: ConsoleRequest, account: OfficialAccount, openid: str) -> HttpResponse:
    key = request.POST.get("key", "").strip()
    value = None if request.POST.get("remove") else request.POST.get("value", "").strip()
    actions.set_attributes(request.user, account, openid, {key: value})
    messages.success(request, _("Attributes saved."))
    return redirect("console:fan", appid=account.appid, openid=openid)


@account_page(Role.OPERATOR)
def fans_csv(request: ConsoleRequest, account: OfficialAccount) -> HttpResponseBase:
    form = filter_form(request, account)
    if form.errors:
        return HttpResponse(_("The fan filter is not valid."), status=400)
    # Following as 是/否 in the Chinese console, yes/no in English; Chinese column names when ticked.
    style = exports.CsvStyle.for_language(
        translation.get_language(), chinese_headers=request.GET.get("headers") == "zh"
    )
    rows = exports.fan_csv_rows(request.user, account, form.fan_filter(), form.ordering_value(), style)
    response = StreamingHttpResponse(rows, content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="fans-{account.appid}-{stamp}.csv"'
    return response


@account_page(Role.OPERATOR)
def imports_page(request: ConsoleRequest, account: OfficialAccount) -> HttpResponse:
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            job = imports.start_import(
                request.user,
                account,
                form.cleaned_data["file"],
                form.mapping(),
                dry_run=True,
                filename=form.cleaned_data["file"].name,
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            return redirect("console:import", appid=account.appid, job_id=job.pk)
    jobs = ImportJob.objects.filter(account=account)
    context = {"form": form, "tags": tag_choices(account), **job_history(request, jobs)}
    return render(request, "console/imports.html", context)


@account_page(Role.OPERATOR)
def import_detail(request: ConsoleRequest, account: OfficialAccount, job_id: int) -> HttpResponse:
    job = get_object_or_404(ImportJob, account=account, pk=job_id)
    template = "console/partials/import_status.html" if request.htmx else "console/import_detail.html"
    return progress_row(request, job, template)


@account_page(Role.OPERATOR)
@require_POST
def import_commit(request: ConsoleRequest, account: OfficialAccount, job_id: int) -> HttpResponse:
    job = get_object_or_404(ImportJob, account=account, pk=job_id)
    try:
        imports.commit_import(request.user, account, job.pk)
        messages.success(request, _("Import is being applied."))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("console:import", appid=account.appid, job_id=job.pk)
