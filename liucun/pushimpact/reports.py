"""The push-impact report (issue 13): which pushes cost the most fans. The computation is impact.py."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _g
from django.utils.translation import gettext_lazy as _

from liucun.accounts.models import OfficialAccount
from liucun.analytics.periods import ReportQuery, site_zone
from liucun.analytics.report import Column, Param, Report, ReportSpec, register
from liucun.pushimpact.impact import ALPHA, MIN_BASELINE_WEEKS, PushImpact, measure
from liucun.pushimpact.models import PushSource

COLUMNS = (
    Column("rank", _("Rank"), "int", _("By excess unfollows in 24 h, the costliest first")),
    Column("time", _("Time"), "text", _("China time, YYYY-MM-DD HH:MM")),
    Column("title", _("Title"), "text"),
    Column("source", _("Source"), "text"),
    Column("unfollows_24h", _("Unfollows in 24 h"), "int"),
    Column("expected_24h", _("Expected in 24 h"), "float"),
    Column("excess_24h", _("Excess in 24 h"), "float"),
    Column("p_24h", _("p (24 h, adjusted)"), "float", _("One-sided, Holm-adjusted over the range")),
    Column("unfollows_72h", _("Unfollows in 72 h"), "int"),
    Column("expected_72h", _("Expected in 72 h"), "float"),
    Column("excess_72h", _("Excess in 72 h"), "float"),
    Column("p_72h", _("p (72 h, adjusted)"), "float"),
    Column("baseline_weeks", _("Baseline weeks"), "int", _("Earlier weeks the expectation rests on")),
    Column("flagged", _("Cost fans"), "bool", _("Significantly more unfollows than usual")),
    Column(
        "holdout_difference",
        _("Holdout difference"),
        "rate",
        _("Recipients' unfollow rate minus held-out fans'"),
    ),
    Column("holdout_low", _("Holdout CI low"), "rate"),
    Column("holdout_high", _("Holdout CI high"), "rate"),
)
WEEK_CHOICES = (("2", "2"), ("4", "4"), ("8", "8"))


def _round(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


def _p(value: float | None) -> float | None:
    """Three significant digits: a p-value of 3e-08 stays readable and is not rounded to zero."""
    return None if value is None else float(f"{value:.3g}")


def _p_text(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def _row(item: PushImpact, sources: dict[str, str]) -> dict[str, Any]:
    day, three = item.windows[24], item.windows[72]
    return {
        "time": item.push.at.astimezone(site_zone()).strftime("%Y-%m-%d %H:%M"),
        "title": item.push.title,
        "source": sources.get(item.push.source, item.push.source),
        "unfollows_24h": day.observed,
        "expected_24h": _round(day.expected),
        "excess_24h": _round(day.excess),
        "p_24h": _p(day.p_adjusted),
        "unfollows_72h": three.observed,
        "expected_72h": _round(three.expected),
        "excess_72h": _round(three.excess),
        "p_72h": _p(three.p_adjusted),
        "baseline_weeks": len(day.baseline),
        "flagged": item.flagged,
        "holdout_difference": _round(item.holdout.difference, 5) if item.holdout else None,
        "holdout_low": _round(item.holdout.low, 5) if item.holdout else None,
        "holdout_high": _round(item.holdout.high, 5) if item.holdout else None,
    }


def _finding(item: PushImpact, when: str) -> str:
    for hours in (24, 72):
        w = item.windows[hours]
        if w.p_adjusted is not None and w.p_adjusted < ALPHA and (w.excess or 0) > 0:
            return _g(
                "“%(title)s” (%(time)s) cost about %(n)d more unfollows than usual in %(hours)d h (%(p)s)."
            ) % {
                "title": item.push.title,
                "time": when,
                "n": round(w.excess or 0),
                "hours": hours,
                "p": _p_text(w.p_adjusted),
            }
    return ""


def build(account: OfficialAccount, query: ReportQuery) -> Report:
    weeks = int(query.options.get("weeks", "4"))
    impact = measure(account, query, weeks)
    ranked = sorted(
        impact.pushes,
        key=lambda i: (i.windows[24].excess is None, -(i.windows[24].excess or 0), i.push.at, i.push.pk),
    )
    sources = {value: str(label) for value, label in PushSource.choices}
    rows = []
    findings = []
    for rank, item in enumerate(ranked, start=1):
        row = {"rank": rank, **_row(item, sources)}
        rows.append(row)
        if item.flagged:
            findings.append(_finding(item, row["time"]))
    unjudged = sum(1 for i in impact.pushes if i.windows[24].expected is None)
    if impact.pushes and not findings:
        findings.append(_g("No push in the range was followed by significantly more unfollows than usual."))
    if unjudged:
        findings.append(
            _g(
                "%(n)d of the pushes have fewer than %(min)d comparable earlier weeks "
                "of data and are not judged."
            )
            % {"n": unjudged, "min": MIN_BASELINE_WEEKS}
        )
    notes = [
        _g(
            "Windows start at the beginning of the push's hour. Expected: the mean "
            "of the same hours of the week "
            "in the %(weeks)d weeks before, scaled by the fans following then and "
            "now; weeks overlapping the 72 h "
            "after another push, or before Liucun's first recorded follow or unfollow, are left out."
        )
        % {"weeks": weeks},
        _g(
            "One-sided test: Poisson with the expected mean, or a negative "
            "binomial of the same mean when the "
            "baseline weeks vary more than Poisson allows (dispersion test, p < 0.05); p-values are "
            "Holm-adjusted over every push and both windows in the range."
        ),
        _g(
            "Unfollows a follower sync found are left out (their time is the "
            "sync's); the channel of an unfollow "
            "is that of the fan's latest follow."
        ),
        _g(
            "Holdout columns compare recipients with randomly held-out fans: only "
            "pushes sent by Liucun with a "
            "holdout have them, and Liucun does not send pushes yet."
        ),
    ]
    timeline = sorted(impact.pushes, key=lambda i: (i.push.at, i.push.pk))
    labels = [f"{i.push.at.astimezone(site_zone()):%m-%d %H:%M} {i.push.title[:12]}" for i in timeline]
    chart = {
        "tooltip": {"trigger": "axis"},
        "legend": {},
        "xAxis": {"type": "category", "data": labels},
        "yAxis": {"type": "value", "name": _g("Unfollows in 24 h")},
        "series": [
            {
                "name": _g("Unfollows in 24 h"),
                "type": "bar",
                "data": [i.windows[24].observed for i in timeline],
                "itemStyle": {"color": "#c0392b"},
            },
            {
                "name": _g("Expected in 24 h"),
                "type": "bar",
                "data": [_round(i.windows[24].expected) for i in timeline],
                "itemStyle": {"color": "#7f8c8d"},
            },
        ],
    }
    meta = {
        "alpha": ALPHA,
        "weeks": weeks,
        "models": {
            f"{h}h": ("negative_binomial" if impact.dispersion[h] > 1 else "poisson")
            for h in impact.dispersion
        },
        "dispersion": {f"{h}h": round(v, 4) for h, v in impact.dispersion.items()},
        "dispersion_p": {f"{h}h": _p(v) for h, v in impact.dispersion_p.items()},
        "p_raw": [
            {
                "time": row["time"],
                "title": row["title"],
                "p_24h": _p(item.windows[24].p_raw),
                "p_72h": _p(item.windows[72].p_raw),
            }
            for row, item in zip(rows, ranked, strict=True)
        ],
    }
    return Report(columns=list(COLUMNS), rows=rows, chart=chart, findings=findings, notes=notes, meta=meta)


register(
    ReportSpec(
        "push-impact",
        _("Push impact"),
        _(
            "For every push, published article or annotated moment in the range: unfollows in the 24 and 72 "
            "hours after it against the same hours of the week in earlier weeks "
            "(scaled by the audience, other "
            "pushes' windows left out), the excess with a one-sided test (Poisson or negative binomial), "
            "Holm-adjusted p-values, and the pushes ranked by the fans they cost."
        ),
        build,
        reads=("push-hourly-flows",),
        columns_doc=COLUMNS,
        params=(Param("weeks", _("Baseline weeks"), "4", WEEK_CHOICES),),
        default_days=90,
        granularities=("day",),
        order=80,
    )
)
