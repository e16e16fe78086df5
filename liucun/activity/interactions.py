"""The interactions and lifecycle reports: read the activity rollups (days x kinds, periods), never events.

The rollups are kept per acquisition channel (definitions.py): a report with a channel reads that channel's
rows, one without sums every channel's in the database (each fan is in one channel, so the sum is the whole
account's, distinct fans included), in the same number of queries however many channels there are.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from typing import Any

from django.db.models import QuerySet, Sum
from django.utils.translation import gettext as _g
from django.utils.translation import gettext_lazy as _

from liucun.accounts.models import OfficialAccount
from liucun.activity.definitions import LIFECYCLE_COLUMNS as LIFECYCLE_FIELDS
from liucun.activity.definitions import PERIODS, group_of
from liucun.activity.models import ActivityKindDay, ActivityPeriod
from liucun.activity.plainrows import day_key, plain_rows
from liucun.analytics.following import following_lines
from liucun.analytics.periods import Bucket, ReportQuery
from liucun.analytics.report import Column, Report
from liucun.events.kinds import label as kind_label

GRANULARITY_CODES = {"day": "d", "week": "w", "month": "m"}
GROUPS = ("messages", "menu_taps", "scans", "other_actions")
GROUP_LABELS = {
    "messages": _("Messages"),
    "menu_taps": _("Menu taps"),
    "scans": _("Scans"),
    "other_actions": _("Other actions"),
}

INTERACTION_COLUMNS = (
    Column("period", _("Period"), "date", _("The first day of the day, week (Monday) or month")),
    Column("events", _("Interactions"), "int", _("Every fan-initiated message, tap and scan")),
    *(Column(g, GROUP_LABELS[g], "int") for g in GROUPS),
    Column("active_fans", _("Interacting fans"), "int", _("Distinct fans with an interaction in the period")),
    Column("following", _("Following at the end"), "int", _("累积关注人数 at the end of the period")),
    Column("interaction_rate", _("Interaction rate"), "rate", _("Interacting fans / following at the end")),
)

LIFECYCLE_COLUMNS = (
    Column("period", _("Period"), "date", _("The first day of the week (Monday), day or month")),
    Column("new", _("New"), "int", _("Active for the first time")),
    Column("returning", _("Returning"), "int", _("Active in this period and the one before")),
    Column("resurrecting", _("Resurrecting"), "int", _("Active again after at least one quiet period")),
    Column("dormant", _("Dormant"), "int", _("Active in the period before, not in this one (negative)")),
    Column("active", _("Active fans"), "int", _("New + returning + resurrecting")),
)


def _in_channel(
    rows: QuerySet[Any], channel: str | None, keys: tuple[str, ...], values: tuple[str, ...]
) -> list[tuple[Any, ...]]:
    """(*keys, *values) of the channel's rows, or of every channel's summed per key (channel None)."""
    if channel is not None:
        return plain_rows(rows.filter(channel=channel), *keys, *values)
    summed = rows.values(*keys).annotate(**{f"all_{v}": Sum(v) for v in values}).order_by()
    return plain_rows(summed, *keys, *(f"all_{v}" for v in values))


def _period_rows(account: OfficialAccount, query: ReportQuery) -> dict[str, dict[str, int]]:
    """The calendar periods the buckets fall in, by first day (a clipped bucket reads its whole period)."""
    code = GRANULARITY_CODES[query.granularity]
    period_of = PERIODS[code][0]
    rows = ActivityPeriod.objects.filter(
        account=account, granularity=code, start__gte=period_of(query.start), start__lte=query.end
    )
    return {
        day_key(start): dict(zip(LIFECYCLE_FIELDS, values, strict=True))
        for start, *values in _in_channel(rows, query.channel, ("start",), LIFECYCLE_FIELDS)
    }


def _channel_note() -> str:
    return _g(
        "A fan's channel is the QR code of the first follow Liucun stored for the fan; fans who followed "
        "without a QR code, or whose follow Liucun never received, have none. A fan who refollowed "
        "through another QR code still counts under the first, so each fan is in one channel and the "
        "channels add up to the whole account."
    )


def _period_start(query: ReportQuery, bucket: Bucket) -> str:
    return PERIODS[GRANULARITY_CODES[query.granularity]][0](bucket.first).isoformat()


def build_interactions(account: OfficialAccount, query: ReportQuery) -> Report:
    buckets = query.buckets()
    index = {day.isoformat(): i for i, b in enumerate(buckets) for day in _days(b)}
    groups = [Counter[str]() for _ in buckets]
    by_kind: Counter[str] = Counter()
    kind_rows = ActivityKindDay.objects.filter(account=account, day__gte=query.start, day__lte=query.end)
    for day, kind, events in _in_channel(kind_rows, query.channel, ("day", "kind"), ("events",)):
        groups[index[day_key(day)]][group_of(kind)] += events
        by_kind[kind] += events
    periods = _period_rows(account, query)
    following = following_lines(account.pk).series([b.last for b in buckets], query.channel)
    rows: list[dict[str, Any]] = []
    for i, bucket in enumerate(buckets):
        active = periods.get(_period_start(query, bucket), {}).get("active", 0)
        row: dict[str, Any] = {"period": bucket.first, "events": sum(groups[i].values())}
        row |= {g: groups[i][g] for g in GROUPS}
        row |= {
            "active_fans": active,
            "following": following[i],
            "interaction_rate": round(active / following[i], 6) if following[i] > 0 else None,
        }
        rows.append(row)
    total = sum(by_kind.values())
    findings = []
    if total:
        top, n = by_kind.most_common(1)[0]
        findings.append(
            _g("%(total)d interactions in the range; the most frequent kind is %(kind)s (%(n)d).")
            % {"total": total, "kind": kind_label(top), "n": n}
        )
        rated = [r for r in rows if r["interaction_rate"] is not None]
        if rated:
            best = max(rated, key=lambda r: r["interaction_rate"])
            findings.append(
                _g("The highest interaction rate was %(rate).1f %% (period starting %(period)s).")
                % {"rate": best["interaction_rate"] * 100, "period": best["period"].isoformat()}
            )
    else:
        findings.append(_g("No fan interacted in the range."))
    return Report(
        columns=list(INTERACTION_COLUMNS),
        rows=rows,
        chart=_interactions_chart(rows),
        findings=findings,
        notes=[
            _g(
                "An interaction is something a fan did on purpose: a message, a menu tap, a scan, a location "
                "or photos sent from the menu, a subscription prompt answered. Follows, unfollows and "
                "automatic location reports are not interactions."
            ),
            _g(
                "Interacting fans are exact distinct counts per calendar day, week (Monday) or month: a "
                "first or last period cut by the range still counts its whole calendar period's fans."
            ),
            _channel_note(),
            _g(
                "With a channel, the interaction rate divides by the fans following through that channel "
                "at the end, where a fan who unfollowed and came back through another QR code counts under "
                "the new one: for such fans the two can differ."
            ),
        ],
        meta={"events_by_kind": dict(sorted(by_kind.items()))},
    )


def _days(bucket: Bucket) -> list[date]:
    return [bucket.first + timedelta(days=i) for i in range((bucket.last - bucket.first).days + 1)]


def _interactions_chart(rows: list[dict[str, Any]]) -> dict[str, Any]:
    labels = [r["period"].isoformat() for r in rows]
    colours = {"messages": "#2f6fb0", "menu_taps": "#3a9d5d", "scans": "#d08a1f", "other_actions": "#8a63b8"}
    series: list[dict[str, Any]] = [
        {
            "name": str(GROUP_LABELS[g]),
            "type": "bar",
            "stack": "events",
            "itemStyle": {"color": colours[g]},
            "data": [r[g] for r in rows],
        }
        for g in GROUPS
    ]
    series.append(
        {
            "name": _g("Interaction rate"),
            "type": "line",
            "yAxisIndex": 1,
            "itemStyle": {"color": "#c0392b"},
            "data": [
                None if r["interaction_rate"] is None else round(r["interaction_rate"] * 100, 2) for r in rows
            ],
        }
    )
    return {
        "tooltip": {"trigger": "axis"},
        "legend": {"type": "scroll"},
        "xAxis": {"type": "category", "data": labels},
        "yAxis": [{"type": "value", "name": _g("Interactions")}, {"type": "value", "name": "%", "min": 0}],
        "series": series,
    }


def build_lifecycle(account: OfficialAccount, query: ReportQuery) -> Report:
    buckets = query.buckets()
    periods = _period_rows(account, query)
    rows: list[dict[str, Any]] = []
    for bucket in buckets:
        p = periods.get(_period_start(query, bucket), dict.fromkeys(LIFECYCLE_FIELDS, 0))
        rows.append(
            {
                "period": bucket.first,
                "new": p["new"],
                "returning": p["returning"],
                "resurrecting": p["resurrecting"],
                "dormant": -p["dormant"],
                "active": p["active"],
            }
        )
    gained = sum(r["new"] + r["resurrecting"] for r in rows)
    lost = -sum(r["dormant"] for r in rows)
    quick_ratio = round(gained / lost, 4) if lost else None
    findings = []
    if quick_ratio is not None:
        findings.append(
            _g(
                "Quick ratio %(ratio).2f: %(gained)d fans became active (new or resurrecting) for %(lost)d "
                "who went dormant; above 1 the active audience grows."
            )
            % {"ratio": quick_ratio, "gained": gained, "lost": lost}
        )
    elif gained:
        findings.append(_g("%(gained)d fans became active and none went dormant.") % {"gained": gained})
    else:
        findings.append(_g("No fan was active in the range."))
    return Report(
        columns=list(LIFECYCLE_COLUMNS),
        rows=rows,
        chart=_lifecycle_chart(rows),
        findings=findings,
        notes=[
            _g(
                "Active means a fan-initiated interaction (messages, menu taps, scans and other fan "
                "actions); new is the fan's first active period Liucun has stored, so a fan who followed "
                "and never interacted never appears."
            ),
            _g(
                "Dormant fans of the current, unfinished period are those not active in it yet. Periods are "
                "whole calendar periods even when the range cuts them."
            ),
            _channel_note(),
        ],
        meta={"quick_ratio": quick_ratio},
    )


def _lifecycle_chart(rows: list[dict[str, Any]]) -> dict[str, Any]:
    # PostHog's lifecycle colours: new blue, returning green, resurrecting orange, dormant red (below zero).
    parts = (
        ("new", _g("New"), "#1d4aff"),
        ("returning", _g("Returning"), "#388600"),
        ("resurrecting", _g("Resurrecting"), "#f7a501"),
        ("dormant", _g("Dormant"), "#db3707"),
    )
    return {
        "tooltip": {"trigger": "axis"},
        "legend": {},
        "xAxis": {"type": "category", "data": [r["period"].isoformat() for r in rows]},
        "yAxis": {"type": "value"},
        "series": [
            {
                "name": name,
                "type": "bar",
                "stack": "lifecycle",
                "itemStyle": {"color": colour},
                "data": [r[key] for r in rows],
            }
            for key, name, colour in parts
        ],
    }
