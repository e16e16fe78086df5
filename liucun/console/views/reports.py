"""Analytics reports: one page, one CSV per registered report (liucun.analytics.report.register)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import translation

from liucun.accounts.models import OfficialAccount
from liucun.analytics import running
from liucun.analytics.periods import NO_CHANNEL, ReportRefused
from liucun.analytics.report import Report, ReportSpec, spec_named, specs
from liucun.channels.queries import channel_choices
from liucun.console.freshness import notices
from liucun.console.scope import ConsoleRequest, account_page
from liucun.staff.models import ROLE_RANK, Role


def _spec(request: ConsoleRequest, name: str) -> ReportSpec:
    spec = spec_named(name)
    if spec is None:
        raise Http404("no such report")
    if ROLE_RANK[request.role] < ROLE_RANK[spec.minimum_role]:
        raise PermissionDenied
    return spec


def visible_specs(role: Role) -> list[ReportSpec]:
    return [s for s in specs() if ROLE_RANK[role] >= ROLE_RANK[s.minimum_role]]


@account_page(Role.OPERATOR)
def reports_index(request: ConsoleRequest, account: OfficialAccount) -> HttpResponse:
    return render(request, "console/reports.html", {"nav": "reports", "reports": visible_specs(request.role)})


@account_page(Role.OPERATOR)
def report_page(request: ConsoleRequest, account: OfficialAccount, name: str) -> HttpResponse:
    spec = _spec(request, name)
    params = request.GET.dict()
    refusal = None
    try:
        query, report = running.run(spec, account, params)
    except ReportRefused as exc:
        # The form stays on the page with the operator's input and the reason; the default range is shown.
        refusal = exc.message
        query, report = running.run(spec, account, {})
    context: dict[str, Any] = {
        "nav": f"report-{spec.name}",
        "spec": spec,
        "query": query,
        "report": report,
        "refusal": refusal,
        "freshness": notices(report.incomplete),
        "table": _table(report),
        "channels": channel_choices(account.pk) if spec.by_channel else [],
        "no_channel": NO_CHANNEL,
        "channel_value": "" if query.channel is None else (query.channel or NO_CHANNEL),
        "csv_query": request.GET.urlencode(),
        "reports": visible_specs(request.role),
    }
    return render(request, "console/report.html", context)


@account_page(Role.OPERATOR)
def report_csv(request: ConsoleRequest, account: OfficialAccount, name: str) -> StreamingHttpResponse:
    spec = _spec(request, name)
    query, report = running.build(spec, account, request.GET.dict())  # a refusal: shown on the page
    chinese = (translation.get_language() or "").startswith("zh")
    response = StreamingHttpResponse(
        running.csv_chunks(report, labels=chinese), content_type="text/csv; charset=utf-8"
    )
    filename = f"{account.appid}-{spec.name}-{query.start:%Y%m%d}-{query.end:%Y%m%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _table(report: Report) -> list[list[dict[str, Any]]]:
    """Each row as cells with their column's label and kind, so the template formats without lookups."""
    return [
        [
            {"label": c.label, "kind": c.kind, "value": _display(row.get(c.key), c.kind)}
            for c in report.columns
        ]
        for row in report.rows
    ]


def _display(value: Any, kind: str) -> Any:
    if value is None:
        return None
    if kind == "rate":
        return f"{value * 100:.1f}%" if isinstance(value, int | float) else value
    if kind == "float":
        return f"{value:.2f}" if isinstance(value, int | float) else value
    if kind == "date" and isinstance(value, date):
        return value.isoformat()
    return value
