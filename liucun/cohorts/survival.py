"""Survival: Kaplan-Meier curves of follow periods per channel, medians, and a log-rank test between channels.

The rollup gives each channel's ended periods per stay bin and the open ones per cohort day, so the
fit (km.py: lifelines' definitions in numpy) weighs each row by its count: a few hundred weighted rows
whatever the number of fans.
A period that lasted s whole days is an unfollow at s + 1 (so S(t) is the share that stayed at least t
days, as in the retention grid); past 30 days stays are binned (models.BIN_STARTS) and an unfollow is
placed at the end of its bin. An open period is censored at the whole days all fans of its cohort day
have surely been following (today - cohort day - 1), rounded down to a bin start. So the curve is exact
to the day for 30 days and at every bin start after (7-day steps to 84 days, 90, then 30-day steps).
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from django.utils.functional import lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.utils.translation import gettext_noop

from liucun.accounts.models import OfficialAccount
from liucun.analytics.periods import ReportQuery, today
from liucun.analytics.report import Column, Report
from liucun.channels.queries import channel_labels
from liucun.cohorts import queries

if TYPE_CHECKING:
    from liucun.cohorts import km
from liucun.cohorts.models import BIN_STARTS, bin_of
from liucun.cohorts.notes import common_notes

DAYS = (1, 3, 7, 30, 90)
ALPHA = 0.05
MAX_CURVES = 8  # more lines than this cannot be read; the table has every channel
COLOURS = ("#5470c6", "#ee6666", "#91cc75", "#fac858", "#73c0de", "#3ba272", "#fc8452", "#9a60b4")


def _doc() -> tuple[Column, ...]:
    columns = [
        Column("channel", _lazy("Channel"), "text", _lazy("QR scene; empty for fans without one.")),
        Column("channel_name", _lazy("Channel name"), "text"),
        Column("fans", _lazy("Fans"), "int", _lazy("Follow periods that began in the range.")),
        Column("unfollowed", _lazy("Unfollowed"), "int", _lazy("Of them, periods that ended.")),
        Column(
            "median_days",
            _lazy("Median stay (days)"),
            "float",
            _lazy("Days after which half had unfollowed; empty while more than half still follow."),
        ),
    ]
    for t in DAYS:
        columns += [
            Column(f"s_{t}d", _numbered(gettext_noop("Still following after %(n)d days"), t), "rate"),
            Column(f"s_{t}d_low", _numbered(gettext_noop("Confidence interval low, %(n)d days"), t), "rate"),
            Column(
                f"s_{t}d_high", _numbered(gettext_noop("Confidence interval high, %(n)d days"), t), "rate"
            ),
        ]
    return tuple(columns)


def _numbered(template: str, n: int) -> str:
    # Lazy, so that the language of the request that shows the column decides, not the one at import.
    return lazy(lambda: _(template) % {"n": n}, str)()


COLUMNS_DOC = _doc()


def _observations(stays: queries.Stays, open_by_day: dict[date, int], now_day: date) -> tuple[list[int], ...]:
    ends = [*BIN_STARTS[1:], BIN_STARTS[-1] + 1]
    censored: dict[int, int] = {}
    for day, n in open_by_day.items():
        at = BIN_STARTS[bin_of(max(0, (now_day - day).days - 1))]
        censored[at] = censored.get(at, 0) + n
    durations, observed, weights = [], [], []
    for end, n in zip(ends, stays.gone, strict=True):
        if n:
            durations.append(end)
            observed.append(1)
            weights.append(n)
    for at, n in censored.items():
        durations.append(at)
        observed.append(0)
        weights.append(n)
    return durations, observed, weights


def _plain_p(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def _row(channel: str, name: str, stays: queries.Stays, curve: km.Curve) -> dict[str, Any]:
    from liucun.cohorts import km  # numpy: loaded when a survival report is built, not at start-up

    row: dict[str, Any] = {
        "channel": channel,
        "channel_name": name,
        "fans": stays.fans,
        "unfollowed": sum(stays.gone),
        "median_days": curve.median,
    }
    for t in DAYS:
        row[f"s_{t}d"] = km.value_at(curve, curve.estimate, t)
        row[f"s_{t}d_low"] = km.value_at(curve, curve.low, t)
        row[f"s_{t}d_high"] = km.value_at(curve, curve.high, t)
    return row


def _logrank(pooled: list[tuple[int, int, int, str]]) -> dict[str, Any] | None:
    from liucun.cohorts import km

    if len({g for *_rest, g in pooled}) < 2 or not any(e for _d, e, _w, _g in pooled):
        return None
    durations, observed, weights, groups = (list(column) for column in zip(*pooled, strict=True))
    result = km.logrank(durations, observed, weights, groups)
    return {
        "test": "log-rank",
        "statistic": result.statistic,
        "p_value": result.p_value,
        "degrees_of_freedom": result.degrees_of_freedom,
    }


def build_survival(account: OfficialAccount, query: ReportQuery) -> Report:
    from liucun.cohorts import km

    now_day = today()
    totals = queries.by_channel(account, query)
    still = queries.still_following_by_channel_and_day(account, query)
    labels = channel_labels(account.pk)
    order = queries.ordered_channels(totals, {c: s.fans for c, s in totals.items()})
    rows: list[dict[str, Any]] = []
    series: list[dict[str, Any]] = []
    pooled: list[tuple[int, int, int, str]] = []
    for i, channel in enumerate(order):
        durations, observed, weights = _observations(totals[channel], still.get(channel, {}), now_day)
        pooled += [(d, e, w, channel) for d, e, w in zip(durations, observed, weights, strict=True)]
        curve = km.kaplan_meier(durations, observed, weights, ALPHA)
        name = queries.channel_name(channel, labels)
        rows.append(_row(channel, name, totals[channel], curve))
        if i < MAX_CURVES:
            series += _curve(name, COLOURS[i], curve)
    test = _logrank(pooled)
    findings = _findings(rows, test)
    horizon = max((d for d, *_rest in pooled), default=1)
    chart = {
        "tooltip": {"trigger": "axis"},
        # Drawn at once: a line animated from the left reads as a curve that stops early.
        "animation": False,
        "legend": {"top": 0, "data": [row["channel_name"] for row in rows[:MAX_CURVES]]},
        "grid": {"left": 50, "right": 40, "top": 60, "bottom": 50},
        "xAxis": {
            "type": "value",
            "name": _("Days since following"),
            "nameLocation": "middle",
            "nameGap": 28,
            "min": 0,
            "max": max(1, horizon),
        },
        "yAxis": {"type": "value", "name": "%", "min": 0, "max": 100},
        "series": series,
    }
    return Report(
        columns=list(COLUMNS_DOC),
        rows=rows,
        chart=chart,
        findings=findings,
        notes=[
            _(
                "Kaplan-Meier estimates with 95 percent confidence bands (Greenwood, exponential). "
                "A stay of s whole days counts as an unfollow on day s + 1; fans still following are "
                "censored at the whole days they have surely been following. The curve is exact to the "
                "day for 30 days; after that stays are grouped (by week to 84 days, then 90, then by 30 "
                "days) and it is exact at each group's start. Values beyond the longest follow-up are left "
                "empty."
            ),
            _(
                "The log-rank test compares all channels at once: a small p-value means at least one channel "
                "keeps its fans for a different time than the others."
            ),
            *common_notes(),
        ],
        meta={"medians": {row["channel"]: row["median_days"] for row in rows}, "test": test, "alpha": ALPHA},
    )


def _findings(rows: list[dict[str, Any]], test: dict[str, Any] | None) -> list[str]:
    findings: list[str] = []
    if test is not None:
        p = _plain_p(test["p_value"])
        if test["p_value"] < ALPHA:
            findings.append(
                _("The channels keep fans for significantly different times (log-rank test, %(p)s).")
                % {"p": p}
            )
        else:
            findings.append(
                _("The channels' survival curves do not differ significantly (log-rank test, %(p)s).")
                % {"p": p}
            )
    for row in rows:
        if row["median_days"] is not None:
            findings.append(
                _("%(channel)s: half of its fans had unfollowed after %(days)s days.")
                % {"channel": row["channel_name"], "days": f"{row['median_days']:g}"}
            )
        else:
            findings.append(
                _("%(channel)s: more than half of its fans still follow (median not reached).")
                % {"channel": row["channel_name"]}
            )
    if not rows:
        findings.append(_("No fan followed in this range."))
    return findings


def _curve(name: str, colour: str, curve: km.Curve) -> list[dict[str, Any]]:
    """The estimate as a step line over a band drawn as two stacked areas (the low line, then high - low)."""
    xs = [float(x) for x in curve.timeline]
    est, lo, hi = (list(map(float, v)) for v in (curve.estimate, curve.low, curve.high))
    if xs[-1] < curve.followed_up:
        xs.append(curve.followed_up)
        est, lo, hi = [*est, est[-1]], [*lo, lo[-1]], [*hi, hi[-1]]
    stack = f"band-{name}"
    hidden = {"type": "line", "step": "end", "symbol": "none", "lineStyle": {"opacity": 0}, "silent": True}
    return [
        {
            **hidden,
            "name": f"{name} CI",
            "stack": stack,
            "data": [[x, round(v * 100, 2)] for x, v in zip(xs, lo, strict=True)],
        },
        {
            **hidden,
            "name": f"{name} CI",
            "stack": stack,
            "areaStyle": {"color": colour, "opacity": 0.18},
            "data": [[x, round((h - v) * 100, 2)] for x, v, h in zip(xs, lo, hi, strict=True)],
        },
        {
            "name": name,
            "type": "line",
            "step": "end",
            "symbol": "none",
            "color": colour,
            "data": [[x, round(v * 100, 2)] for x, v in zip(xs, est, strict=True)],
        },
    ]
