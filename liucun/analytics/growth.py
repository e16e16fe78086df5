"""Growth (新关注人数, 取消关注人数, 净增关注人数, 累积关注人数) and the daily unfollow rate (日取关率).

Both read two small read models, never the event store: daily follows (readmodels/daily_follows.py: what
WeChat counts, every follow and unfollow) and the following lines (analytics/following.py: how many fans
follow at the end of a day).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.utils.translation import gettext as _g
from django.utils.translation import gettext_lazy as _

from liucun.accounts.models import OfficialAccount
from liucun.analytics.following import FollowingLines, following_lines
from liucun.analytics.periods import Bucket, ReportQuery
from liucun.analytics.report import Column, Report
from liucun.channels.queries import channel_labels
from liucun.readmodels.models import DailyFollows

TOP_CHANNELS = 5
# Newrank (新榜) 2017, 8,464 accounts: mean daily unfollow rate 0.08 %, most accounts 0.03-0.09 %
# (docs/wxsim.md, calibration sources [1]).
BENCHMARK_MEAN = 0.0008
BENCHMARK_LOW, BENCHMARK_HIGH = 0.0003, 0.0009
COLOURS = ["#07c160", "#576b95", "#fa9d3b", "#10aeff", "#8e6bd8", "#b2b2b2"]


@dataclass(frozen=True)
class DayFlows:
    """Per day: new follows (follows + refollows) by channel, unfollows and those found by sync."""

    new: dict[date, Counter[str]]
    unfollows: Counter[date]
    reconciled: Counter[date]


def day_flows(account: OfficialAccount, first: date, last: date, channel: str | None) -> DayFlows:
    rows = DailyFollows.objects.filter(account=account, day__gte=first, day__lte=last)
    if channel is not None:
        rows = rows.filter(channel=channel)
    new: dict[date, Counter[str]] = {}
    unfollows: Counter[date] = Counter()
    reconciled: Counter[date] = Counter()
    for day, scene, follows, refollows, lost, found in rows.values_list(
        "day", "channel", "follows", "refollows", "unfollows", "reconciled_unfollows"
    ):
        new.setdefault(day, Counter())[scene] += follows + refollows
        unfollows[day] += lost + found
        reconciled[day] += found
    return DayFlows(new, unfollows, reconciled)


def by_bucket(buckets: list[Bucket], per_day: dict[date, int]) -> list[int]:
    """per_day summed into the buckets (one pass over the days)."""
    index = _bucket_index(buckets)
    sums = [0] * len(buckets)
    for day, n in per_day.items():
        if day in index:
            sums[index[day]] += n
    return sums


def _bucket_index(buckets: list[Bucket]) -> dict[date, int]:
    return {
        b.first + timedelta(days=k): i
        for i, b in enumerate(buckets)
        for k in range((b.last - b.first).days + 1)
    }


def channel_name(scene: str, labels: dict[str, str]) -> str:
    if scene == "":
        return _g("(search, article, other)")
    return labels.get(scene, scene)


GROWTH_COLUMNS = (
    Column("day", _("Period"), "date", _("The first day of the day, week (Monday) or month.")),
    Column(
        "new", _("New follows"), "int", _("新关注人数: every follow, refollows included, as WeChat counts.")
    ),
    Column(
        "unfollows",
        _("Unfollows (all)"),
        "int",
        _("取消关注人数: every unfollow, including those the follower sync found (their callback was lost)."),
    ),
    Column("reconciled", _("Of which found by sync"), "int", _("Unfollows found by the follower sync.")),
    Column("net", _("Net follows"), "int", _("净增关注人数: new follows minus unfollows.")),
    Column(
        "cumulative",
        _("Cumulative following"),
        "int",
        _("累积关注人数: fans following at the end of the period's last day."),
    ),
)


def build_growth(account: OfficialAccount, query: ReportQuery) -> Report:
    flows = day_flows(account, query.start, query.end, query.channel)
    lines = following_lines(account.pk)
    buckets = query.buckets()
    cumulative = lines.series([b.last for b in buckets], query.channel)
    rows: list[dict[str, Any]] = []
    by_scene: Counter[str] = Counter()
    index = _bucket_index(buckets)
    new_by_bucket: list[Counter[str]] = [Counter() for _ in buckets]
    for day, scenes in flows.new.items():
        if day in index:
            new_by_bucket[index[day]].update(scenes)
    lost_by_bucket = by_bucket(buckets, flows.unfollows)
    found_by_bucket = by_bucket(buckets, flows.reconciled)
    for i, (bucket, following) in enumerate(zip(buckets, cumulative, strict=True)):
        new, lost, found = new_by_bucket[i], lost_by_bucket[i], found_by_bucket[i]
        total_new = sum(new.values())
        by_scene.update(new)
        rows.append(
            {
                "day": bucket.first,
                "new": total_new,
                "unfollows": lost,
                "reconciled": found,
                "net": total_new - lost,
                "cumulative": following,
                "_new_by_scene": new,
            }
        )
    labels = channel_labels(account.pk)
    chart = _growth_chart(rows, buckets, by_scene, labels, query.channel)
    for row in rows:
        del row["_new_by_scene"]
    totals = {k: sum(r[k] for r in rows) for k in ("new", "unfollows", "reconciled", "net")}
    findings = [
        _g(
            "%(new)d new follows and %(unfollows)d unfollows in the range: net %(net)+d; "
            "%(end)d fans following at its end."
        )
        % {**totals, "end": cumulative[-1] if cumulative else 0}
    ]
    if totals["reconciled"]:
        findings.append(
            _g(
                "%(n)d of the unfollows were found by the follower sync (their callback was lost): "
                "they count on the day the sync found them."
            )
            % {"n": totals["reconciled"]}
        )
    return Report(
        columns=list(GROWTH_COLUMNS),
        rows=rows,
        chart=chart,
        findings=findings,
        notes=[
            _g(
                "New follows and unfollows are counted as WeChat counts them: every follow, refollows "
                "included, and every unfollow, those the follower sync found included, on the day it found "
                "them. Following at the end is the fans table's count today minus the net changes of the "
                "days after; fans the sync found without a follow event count on every day."
            ),
            _g(
                "Following at the end can differ from the previous period's plus its net when a fan "
                "followed twice or unfollowed twice in a row (a lost callback): it counts fans, not events."
            ),
        ],
        meta={"totals": totals, "channel_totals": dict(by_scene)},
    )


def _growth_chart(
    rows: list[dict[str, Any]],
    buckets: list[Bucket],
    by_scene: Counter[str],
    labels: dict[str, str],
    channel: str | None,
) -> dict[str, Any]:
    x = [b.label for b in buckets]
    cumulative = {
        "name": _g("Cumulative following"),
        "type": "line",
        "yAxisIndex": 1,
        "data": [r["cumulative"] for r in rows],
        "itemStyle": {"color": "#1f2937"},
        "showSymbol": len(rows) <= 60,
    }
    series: list[dict[str, Any]]
    if channel is None:
        top = [scene for scene, n in by_scene.most_common(TOP_CHANNELS) if n]
        series = [
            {
                "name": channel_name(scene, labels),
                "type": "bar",
                "stack": "new",
                "data": [r["_new_by_scene"].get(scene, 0) for r in rows],
            }
            for scene in top
        ]
        if len([s for s, n in by_scene.items() if n]) > len(top):
            series.append(
                {
                    "name": _g("Other channels"),
                    "type": "bar",
                    "stack": "new",
                    "data": [r["new"] - sum(r["_new_by_scene"].get(s, 0) for s in top) for r in rows],
                }
            )
        if not series:
            series = [{"name": _g("New follows"), "type": "bar", "stack": "new", "data": [0] * len(rows)}]
    else:
        series = [
            {"name": _g("New follows"), "type": "bar", "data": [r["new"] for r in rows]},
            {"name": _g("Unfollows"), "type": "bar", "data": [-r["unfollows"] for r in rows]},
        ]
    series.append(cumulative)
    return {
        "color": COLOURS,
        "tooltip": {"trigger": "axis"},
        "legend": {"top": 0, "type": "scroll"},
        "grid": {"left": 50, "right": 60, "top": 40, "bottom": 30},
        "xAxis": {"type": "category", "data": x},
        "yAxis": [
            {"type": "value", "minInterval": 1, "name": _g("Follows")},
            {"type": "value", "minInterval": 1, "name": _g("Following"), "scale": True},
        ],
        "series": series,
    }


def average_daily_rate(
    lines: FollowingLines, days: list[date], unfollows: int, channel: str | None
) -> float | None:
    """The average day of a range: every unfollow over every fan-day at risk (each day's start count)."""
    exposure = sum(lines.series([d - timedelta(days=1) for d in days], channel))
    return unfollows / exposure if exposure > 0 else None


RATE_COLUMNS = (
    Column("day", _("Period"), "date", _("The first day of the day, week (Monday) or month.")),
    Column("unfollows", _("Unfollows"), "int", _("取消关注人数, those found by the follower sync included.")),
    Column(
        "following_start", _("Following at the start"), "int", _("Fans following at the start of the period.")
    ),
    Column("days", _("Days"), "int"),
    Column(
        "rate",
        _("Daily unfollow rate"),
        "rate",
        _("日取关率: unfollows / following at the start / days (a week's or month's average day)."),
    ),
)


def build_unfollow_rate(account: OfficialAccount, query: ReportQuery) -> Report:
    flows = day_flows(account, query.start, query.end, query.channel)
    lines = following_lines(account.pk)
    buckets = query.buckets()
    starts = lines.series([b.first - timedelta(days=1) for b in buckets], query.channel)
    rows: list[dict[str, Any]] = []
    for bucket, start, lost in zip(buckets, starts, by_bucket(buckets, flows.unfollows), strict=True):
        days = (bucket.last - bucket.first).days + 1
        rows.append(
            {
                "day": bucket.first,
                "unfollows": lost,
                "following_start": start,
                "days": days,
                "rate": lost / start / days if start > 0 else None,
            }
        )
    total = sum(flows.unfollows.values())
    average = average_daily_rate(lines, query.day_list(), total, query.channel)
    findings: list[str] = []
    if average is not None:
        if average > BENCHMARK_HIGH:
            comparison = _g("above the usual range")
        elif average < BENCHMARK_LOW:
            comparison = _g("below the usual range")
        else:
            comparison = _g("within the usual range")
        findings.append(
            _g(
                "Average daily unfollow rate over the range: %(rate).3f %%, %(comparison)s of public "
                "accounts (mean 0.08 %%, most 0.03-0.09 %%: Newrank 2017)."
            )
            % {"rate": average * 100, "comparison": comparison}
        )
    else:
        findings.append(_g("Nobody was following at the start of the range's days: no rate to show."))
    chart = {
        "color": ["#e5484d", "#b2b2b2"],
        "tooltip": {"trigger": "axis"},
        "legend": {"top": 0},
        "grid": {"left": 60, "right": 60, "top": 40, "bottom": 30},
        "xAxis": {"type": "category", "data": [b.label for b in buckets]},
        "yAxis": [
            {"type": "value", "name": "%"},
            {"type": "value", "minInterval": 1, "name": _g("Unfollows")},
        ],
        "series": [
            {
                "name": _g("Daily unfollow rate"),
                "type": "line",
                "data": [round(r["rate"] * 100, 4) if r["rate"] is not None else None for r in rows],
                "markLine": {
                    "symbol": "none",
                    "data": [{"yAxis": BENCHMARK_MEAN * 100, "name": _g("Public mean 0.08 %")}],
                    "lineStyle": {"type": "dashed", "color": "#576b95"},
                    "label": {"formatter": _g("Public mean 0.08 %")},
                },
            },
            {"name": _g("Unfollows"), "type": "bar", "yAxisIndex": 1, "data": [r["unfollows"] for r in rows]},
        ],
    }
    return Report(
        columns=list(RATE_COLUMNS),
        rows=rows,
        chart=chart,
        findings=findings,
        notes=[
            _g(
                "A day's rate is its unfollows over the fans following at the start of the day (the end of "
                "the day before). A week's or a month's is its unfollows over the fans following at its "
                "start, divided by its days: its average day. The range's average divides every unfollow by "
                "the sum of each day's start count."
            ),
        ],
        meta={
            "average_daily_rate": average,
            "unfollows": total,
            "benchmark": {"mean": BENCHMARK_MEAN, "usual_low": BENCHMARK_LOW, "usual_high": BENCHMARK_HIGH},
        },
    )
