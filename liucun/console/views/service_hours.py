"""The account's service hours (admins): one row per weekday, holidays one per line."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from liucun.accounts.models import OfficialAccount
from liucun.console.scope import ConsoleRequest, account_page
from liucun.servicehours.actions import save_service_hours
from liucun.servicehours.hours import ServiceHoursInvalid
from liucun.servicehours.models import ServiceHours
from liucun.staff.models import Role

WEEKDAYS = (
    gettext_lazy("Monday"),
    gettext_lazy("Tuesday"),
    gettext_lazy("Wednesday"),
    gettext_lazy("Thursday"),
    gettext_lazy("Friday"),
    gettext_lazy("Saturday"),
    gettext_lazy("Sunday"),
)


def _day_texts(weekly: list[list[object]]) -> list[str]:
    texts: list[list[str]] = [[] for _ in range(7)]
    for weekday, start, end in weekly:
        texts[int(str(weekday))].append(f"{start}-{end}")
    return [", ".join(t) for t in texts]


def _weekly_from(texts: list[str]) -> list[list[object]]:
    weekly: list[list[object]] = []
    for weekday, text in enumerate(texts):
        for part in filter(None, (p.strip() for p in text.replace("，", ",").split(","))):
            start, _sep, end = part.partition("-")
            weekly.append([weekday, start.strip(), end.strip()])
    return weekly


@account_page(Role.ADMIN)
def service_hours(request: ConsoleRequest, account: OfficialAccount) -> HttpResponse:
    row = ServiceHours.objects.filter(account=account).first()
    enabled = row.enabled if row is not None else False
    days = _day_texts(row.weekly) if row is not None else [""] * 7
    holidays = "\n".join(row.holidays) if row is not None else ""
    if request.method == "POST":
        enabled = request.POST.get("enabled") == "on"
        days = [request.POST.get(f"day{i}", "") for i in range(7)]
        holidays = request.POST.get("holidays", "")
        try:
            save_service_hours(
                request.user,
                account,
                enabled=enabled,
                weekly=_weekly_from(days),
                holidays=[line.strip() for line in holidays.splitlines() if line.strip()],
            )
        except ServiceHoursInvalid as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Service hours saved."))
            return redirect("console:service-hours", appid=account.appid)
    context = {
        "enabled": enabled,
        "days": [(i, WEEKDAYS[i], text) for i, text in enumerate(days)],
        "holidays": holidays,
        "configured": row is not None,
    }
    return render(request, "console/service_hours.html", context)
