"""The stays reports (issue 13): retention grid, survival, channel quality (see analytics/report.py)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from liucun.analytics.report import ReportSpec, register
from liucun.cohorts import quality, retention, survival

register(
    ReportSpec(
        "retention",
        _("Retention"),
        _(
            "Cohorts of fans by the week (or day) they followed, and the share of each cohort still "
            "following 1, 2, 3... weeks (or days) later, as in PostHog's retention grid; cells not yet "
            "reached by every fan of the cohort are empty. Filter by channel to compare channels."
        ),
        retention.build_retention,
        reads=("follow-stays",),
        columns_doc=retention.COLUMNS_DOC,
        default_days=84,
        granularities=("week", "day"),
        order=30,
    )
)

register(
    ReportSpec(
        "survival",
        _("Survival"),
        _(
            "Kaplan-Meier curves of how long fans keep following, per channel, with 95 percent confidence "
            "bands; the median stay per channel (or not reached) and a log-rank test of whether the channels "
            "differ. The range chooses the follow dates of the fans included."
        ),
        survival.build_survival,
        reads=("follow-stays",),
        columns_doc=survival.COLUMNS_DOC,
        default_days=90,
        granularities=("day",),
        order=40,
    )
)

register(
    ReportSpec(
        "channel-quality",
        _("Channel quality"),
        _(
            "Per QR scene: fans gained in the range, the share gone within 1 and 3 days, 30-day retention, "
            "and a locust-channel flag when early loss is significantly above the account's other channels "
            "(one-sided Fisher exact test with Holm's correction)."
        ),
        quality.build_channel_quality,
        reads=("follow-stays",),
        columns_doc=quality.COLUMNS_DOC,
        default_days=90,
        granularities=("day",),
        by_channel=False,
        order=70,
    )
)
