"""Channel quality per QR scene: early loss, 30-day retention, and the "locust channel" flag.

A channel is flagged when its share of fans gone within 3 days is significantly above that of the
account's other channels pooled: a one-sided Fisher exact test per channel, Holm's correction over the
channels tested, at least MIN_FANS fans old enough on each side, and at least MIN_RATIO times the rest's
share (a tiny difference on a big account is significant but not a locust channel).
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from datetime import date
from functools import reduce
from typing import Any

from django.db.models import F, Q, Sum
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from liucun.accounts.models import OfficialAccount
from liucun.analytics.periods import ReportQuery, today
from liucun.analytics.report import Column, Report
from liucun.channels.queries import channel_labels
from liucun.cohorts import queries
from liucun.cohorts.models import BIN_COLUMNS, BIN_STARTS
from liucun.cohorts.notes import common_notes

ALPHA = 0.05
MIN_FANS = 30
MIN_RATIO = 1.5
LOCUST_COLOUR, OTHER_COLOUR = "#d94e5d", "#5470c6"

COLUMNS_DOC = (
    Column("channel", _lazy("Channel"), "text", _lazy("QR scene; empty for fans without one.")),
    Column("channel_name", _lazy("Channel name"), "text"),
    Column("fans", _lazy("Fans"), "int", _lazy("Follow periods that began in the range.")),
    Column("gone_1d", _lazy("Gone within 1 day"), "rate", _lazy("Of fans who followed at least a day ago.")),
    Column("fans_3d", _lazy("Fans followed 3+ days ago"), "int"),
    Column(
        "gone_3d", _lazy("Gone within 3 days"), "rate", _lazy("Of fans who followed at least 3 days ago.")
    ),
    Column("fans_30d", _lazy("Fans followed 30+ days ago"), "int"),
    Column(
        "retained_30d",
        _lazy("30-day retention"),
        "rate",
        _lazy("Of fans who followed at least 30 days ago, the share still following 30 days later."),
    ),
    Column(
        "vs_rest",
        _lazy("Early loss vs other channels"),
        "float",
        _lazy("Gone within 3 days, as a multiple of the other channels' share."),
    ),
    Column(
        "p_value", _lazy("p-value (Holm)"), "float", _lazy("One-sided Fisher exact test, Holm-corrected.")
    ),
    Column("locust", _lazy("Locust channel"), "bool"),
)


@dataclass
class ChannelLoss:
    channel: str
    fans: int = 0
    fans_1d: int = 0  # fans whose first day is over for every one of them
    gone_1d: int = 0
    fans_3d: int = 0
    gone_3d: int = 0
    fans_30d: int = 0
    stayed_30d: int = 0


def losses_by_channel(account: OfficialAccount, query: ReportQuery, now_day: date) -> list[ChannelLoss]:
    """One row per channel, summed by the database: only cohort days old enough count for each share."""

    def old_enough(days: int) -> Q:
        return Q(cohort_day__lte=queries.last_cohort_day_reaching(days, now_day))

    def gone_before(days: int) -> Any:
        return reduce(operator.add, (F(c) for s, c in zip(BIN_STARTS, BIN_COLUMNS, strict=True) if s < days))

    rows = (
        queries.rows_in_range(account, query)
        .values("channel")
        .annotate(
            n=Sum("fans"),
            n1=Sum("fans", filter=old_enough(1), default=0),
            g1=Sum(gone_before(1), filter=old_enough(1), default=0),
            n3=Sum("fans", filter=old_enough(3), default=0),
            g3=Sum(gone_before(3), filter=old_enough(3), default=0),
            n30=Sum("fans", filter=old_enough(30), default=0),
            s30=Sum(F("fans") - gone_before(30), filter=old_enough(30), default=0),
        )
        .order_by()
        .values_list("channel", "n", "n1", "g1", "n3", "g3", "n30", "s30")
    )
    return sorted((ChannelLoss(*row) for row in rows if row[1]), key=lambda c: (-c.fans, c.channel))


def holm(p_values: dict[str, float]) -> dict[str, float]:
    """Holm's step-down adjustment: the i-th smallest of m p-values times (m - i), kept monotone."""
    adjusted: dict[str, float] = {}
    running = 0.0
    m = len(p_values)
    for i, (key, p) in enumerate(sorted(p_values.items(), key=lambda kv: (kv[1], kv[0]))):
        running = max(running, min(1.0, (m - i) * p))
        adjusted[key] = running
    return adjusted


def early_loss_tests(losses: list[ChannelLoss]) -> dict[str, tuple[float, float | None]]:
    """channel -> (raw one-sided p-value, ratio to the rest) for every channel big enough to test."""
    from scipy.stats import fisher_exact

    all_fans = sum(c.fans_3d for c in losses)
    all_gone = sum(c.gone_3d for c in losses)
    out: dict[str, tuple[float, float | None]] = {}
    for c in losses:
        rest_fans, rest_gone = all_fans - c.fans_3d, all_gone - c.gone_3d
        if c.fans_3d < MIN_FANS or rest_fans < MIN_FANS:
            continue
        table = [[c.gone_3d, c.fans_3d - c.gone_3d], [rest_gone, rest_fans - rest_gone]]
        p = float(fisher_exact(table, alternative="greater").pvalue)
        rest_share = rest_gone / rest_fans
        ratio = (c.gone_3d / c.fans_3d) / rest_share if rest_share else None
        out[c.channel] = (p, ratio)
    return out


def build_channel_quality(account: OfficialAccount, query: ReportQuery) -> Report:
    losses = losses_by_channel(account, query, today())
    labels = channel_labels(account.pk)
    tests = early_loss_tests(losses)
    adjusted = holm({channel: p for channel, (p, _ratio) in tests.items()})
    rows: list[dict[str, Any]] = []
    for c in losses:
        p, ratio = tests.get(c.channel, (None, None))
        share_3d = queries.share(c.gone_3d, c.fans_3d)
        locust = (
            c.channel in adjusted
            and adjusted[c.channel] < ALPHA
            and bool(share_3d)
            and (ratio is None or ratio >= MIN_RATIO)
        )
        rows.append(
            {
                "channel": c.channel,
                "channel_name": queries.channel_name(c.channel, labels),
                "fans": c.fans,
                "gone_1d": queries.share(c.gone_1d, c.fans_1d),
                "fans_3d": c.fans_3d,
                "gone_3d": share_3d,
                "fans_30d": c.fans_30d,
                "retained_30d": queries.share(c.stayed_30d, c.fans_30d),
                "vs_rest": ratio,
                "p_value": adjusted.get(c.channel) if p is not None else None,
                "locust": locust,
            }
        )
    return Report(
        columns=list(COLUMNS_DOC),
        rows=rows,
        chart=_chart(rows),
        findings=_findings(rows, losses),
        notes=[
            _(
                "Gone within 1 or 3 days: the follow period lasted less than 24 or 72 hours. Each share "
                "counts only fans whose whole window is over (followed at least 1, 3 or 30 full days before "
                "today), so recent fans never count as having stayed; the fans counted are in the table."
            ),
            _(
                "Locust channel: gone within 3 days significantly above the other channels pooled (one-sided "
                "Fisher exact test, Holm-corrected over the channels tested, p < %(alpha)s), at least "
                "%(ratio)s times their share, and at least %(min)d fans old enough on each side (smaller "
                "channels are not tested)."
            )
            % {"alpha": ALPHA, "ratio": MIN_RATIO, "min": MIN_FANS},
            *common_notes(),
        ],
        meta={
            "alpha": ALPHA,
            "min_fans": MIN_FANS,
            "min_ratio": MIN_RATIO,
            "correction": "holm",
            "tested": sorted(tests),
            "locust_channels": [r["channel"] for r in rows if r["locust"]],
        },
    )


def _findings(rows: list[dict[str, Any]], losses: list[ChannelLoss]) -> list[str]:
    if not rows:
        return [_("No fan followed in this range.")]
    findings = []
    all_fans = sum(c.fans_3d for c in losses)
    all_gone = sum(c.gone_3d for c in losses)
    by_channel = {c.channel: c for c in losses}
    for row in rows:
        if not row["locust"]:
            continue
        loss = by_channel[row["channel"]]
        rest = queries.share(all_gone - loss.gone_3d, all_fans - loss.fans_3d)
        findings.append(
            _(
                "%(channel)s is a locust channel: %(share)s of its fans were gone within 3 days, against "
                "%(rest)s on the other channels (%(p)s after Holm's correction)."
            )
            % {
                "channel": row["channel_name"],
                "share": queries.percent(row["gone_3d"]),
                "rest": queries.percent(rest),
                "p": "p < 0.001" if row["p_value"] < 0.001 else f"p = {row['p_value']:.3f}",
            }
        )
    if not findings:
        findings.append(_("No channel loses its fans within 3 days significantly faster than the others."))
    return findings


def _chart(rows: list[dict[str, Any]]) -> dict[str, Any]:
    names = [r["channel_name"] for r in rows]
    return {
        "tooltip": {"trigger": "axis"},
        "animation": False,
        "legend": {"top": 0, "data": [_("Gone within 3 days"), _("30-day retention")]},
        "grid": {"left": 50, "right": 20, "top": 60, "bottom": 90},
        "xAxis": {"type": "category", "data": names, "axisLabel": {"rotate": 30}},
        "yAxis": {"type": "value", "name": "%", "min": 0, "max": 100},
        "series": [
            {
                "name": _("Gone within 3 days"),
                "type": "bar",
                "data": [
                    {
                        "value": None if r["gone_3d"] is None else round(r["gone_3d"] * 100, 1),
                        "itemStyle": {"color": LOCUST_COLOUR if r["locust"] else OTHER_COLOUR},
                    }
                    for r in rows
                ],
            },
            {
                "name": _("30-day retention"),
                "type": "bar",
                "color": "#91cc75",
                "data": [
                    None if r["retained_30d"] is None else round(r["retained_30d"] * 100, 1) for r in rows
                ],
            },
        ],
    }
