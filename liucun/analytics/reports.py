"""Reports of the analytics app itself (growth, the daily unfollow rate): see analytics/report.py."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from liucun.accounts.models import OfficialAccount
from liucun.analytics.periods import ReportQuery
from liucun.analytics.report import Column, Report, ReportSpec, register
from liucun.readmodels.models import DailyFollows


def _placeholder(account: OfficialAccount, query: ReportQuery) -> Report:
    rows = []
    days = DailyFollows.objects.filter(account=account, day__gte=query.start, day__lte=query.end)
    by_day: dict[str, int] = {}
    for d in days.values("day", "follows"):
        by_day[d["day"].isoformat()] = by_day.get(d["day"].isoformat(), 0) + d["follows"]
    for b in query.buckets():
        rows.append(
            {
                "day": b.first,
                "follows": sum(
                    v for k, v in by_day.items() if b.first.isoformat() <= k <= b.last.isoformat()
                ),
            }
        )
    return Report(
        columns=[Column("day", _("Day"), "date"), Column("follows", _("Follows"))],
        rows=rows,
        chart={
            "xAxis": {"type": "category", "data": [r["day"].isoformat() for r in rows]},
            "yAxis": {"type": "value"},
            "series": [{"type": "bar", "data": [r["follows"] for r in rows]}],
        },
    )


register(
    ReportSpec(
        "growth",
        _("Growth"),
        _("New follows per day (placeholder)."),
        _placeholder,
        columns_doc=(Column("day", _("Day"), "date"),),
    )
)
