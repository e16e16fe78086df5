"""The retention grid: cohorts by follow day or week x days or weeks since following, as in PostHog.

A cell is the share of the cohort's follow periods that lasted at least k units (or are still open).
It is shown only once every fan of the cohort has been following k units (queries.py: whole days), so
a fan who followed ten days ago never counts at week 2: later cells are empty, not 0.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from liucun.accounts.models import OfficialAccount
from liucun.analytics.periods import Bucket, ReportQuery, today
from liucun.analytics.report import Column, Report
from liucun.cohorts import queries
from liucun.cohorts.notes import common_notes

AGES = {"day": 30, "week": 12}  # columns after age 0
UNITS = {"day": 1, "week": 7}
HEADLINE_AGES = {"day": (1, 7, 30), "week": (1, 4, 12)}

COLUMNS_DOC = (
    Column(
        "cohort", _lazy("Cohort"), "date", _lazy("First day of the cohort (a day, or a week from Monday).")
    ),
    Column("fans", _lazy("Fans"), "int", _lazy("Follow periods that began in the cohort.")),
    Column(
        "age_0",
        _lazy("Age 0"),
        "rate",
        _lazy("age_k: share still following k days or weeks after following; empty until reached."),
    ),
)


def _age_label(unit: str, k: int) -> str:
    return _("Day %(n)d") % {"n": k} if unit == "day" else _("Week %(n)d") % {"n": k}


def _oldest_age_reached(cohort: Bucket, unit_days: int, today_: date) -> int:
    """The largest k with cohort.last + 1 + k units <= today; age 0 is every fan's the moment they follow
    (100 % of any cohort, as in PostHog)."""
    return max(0, ((today_ - cohort.last).days - 1) // unit_days)


def build_retention(account: OfficialAccount, query: ReportQuery) -> Report:
    unit = query.granularity if query.granularity in UNITS else "week"
    unit_days, ages = UNITS[unit], AGES[unit]
    now_day = today()
    cohorts = query.buckets()
    days = queries.by_cohort_day(account, query)
    grid: list[queries.Stays] = []
    for cohort in cohorts:
        stays = queries.empty()
        day = cohort.first
        while day <= cohort.last:
            if day in days:
                stays.add(days[day])
            day += timedelta(days=1)
        grid.append(stays)

    columns = [COLUMNS_DOC[0], COLUMNS_DOC[1]]
    columns += [Column(f"age_{k}", _age_label(unit, k), "rate") for k in range(ages + 1)]
    rows: list[dict[str, Any]] = []
    heat: list[list[Any]] = []
    reached_totals = [[0, 0] for _k in range(ages + 1)]  # retained, cohort fans, over cohorts that reached k
    for y, (cohort, stays) in enumerate(zip(cohorts, grid, strict=True)):
        size = stays.fans
        row: dict[str, Any] = {"cohort": cohort.first, "fans": size}
        oldest = _oldest_age_reached(cohort, unit_days, now_day)
        for k in range(ages + 1):
            if size and k <= oldest:
                retained = size - stays.gone_before(k * unit_days)
                row[f"age_{k}"] = retained / size
                heat.append([k, y, round(retained / size * 100, 1)])
                reached_totals[k][0] += retained
                reached_totals[k][1] += size
            else:
                row[f"age_{k}"] = None
        rows.append(row)

    means = [queries.share(kept, whole) for kept, whole in reached_totals]
    findings = []
    for k in HEADLINE_AGES[unit]:
        kept, whole = reached_totals[k]
        if whole:
            findings.append(
                _("%(share)s of the %(fans)d fans in cohorts that reached %(age)s still followed then.")
                % {"share": queries.percent(kept / whole), "fans": whole, "age": _age_label(unit, k)}
            )
    if not any(r["fans"] for r in rows):
        findings.append(_("No fan followed in this range."))
    labels = [c.label for c in cohorts]
    chart = {
        "animation": False,
        "tooltip": {"position": "top"},
        "grid": {"left": 90, "right": 20, "top": 20, "bottom": 80},
        "xAxis": {
            "type": "category",
            "data": [_age_label(unit, k) for k in range(ages + 1)],
            "splitArea": {"show": True},
        },
        "yAxis": {"type": "category", "data": labels, "inverse": True, "splitArea": {"show": True}},
        "visualMap": {
            "min": 0,
            "max": 100,
            "calculable": True,
            "orient": "horizontal",
            "left": "center",
            "bottom": 0,
            "inRange": {"color": ["#f7fbff", "#6baed6", "#08306b"]},
        },
        "series": [
            {
                "name": _("Still following, percent"),
                "type": "heatmap",
                "data": heat,
                "label": {"show": len(cohorts) * (ages + 1) <= 200},
            }
        ],
    }
    return Report(
        columns=columns,
        rows=rows,
        chart=chart,
        findings=findings,
        notes=[
            _(
                "A cell is the share of the cohort's fans still following k %(unit)s after they followed "
                "(the period lasted at least k x 24 hours, or is still open). A cell stays empty until every "
                "fan of the cohort has been following that long, so young cohorts never count as losses."
            )
            % {"unit": _("days") if unit == "day" else _("weeks")},
            *common_notes(),
        ],
        meta={
            "unit": unit,
            "ages": ages,
            "mean_by_age": means,
            "fans_by_age": [whole for _kept, whole in reached_totals],
        },
    )
