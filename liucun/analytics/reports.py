"""Reports of the analytics app itself (growth, the daily unfollow rate): see analytics/report.py."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from liucun.analytics.growth import GROWTH_COLUMNS, RATE_COLUMNS, build_growth, build_unfollow_rate
from liucun.analytics.report import ReportSpec, register

register(
    ReportSpec(
        "growth",
        _("Growth"),
        _(
            "New follows (新关注人数, refollows included), unfollows (取消关注人数, those the follower sync "
            "found included and also shown apart), net follows (净增关注人数) and fans following at the end "
            "(累积关注人数) per day, week or month; new follows by channel in the chart."
        ),
        build_growth,
        reads=("daily-follows", "following"),
        columns_doc=GROWTH_COLUMNS,
        order=10,
    )
)

register(
    ReportSpec(
        "unfollow-rate",
        _("Daily unfollow rate"),
        _(
            "日取关率: unfollows of a day over the fans following at its start; a week's or month's is its "
            "unfollows over the fans following at its start, divided by its days. Compared with the public "
            "benchmark (mean 0.08 %, most accounts 0.03-0.09 %: Newrank 2017)."
        ),
        build_unfollow_rate,
        reads=("daily-follows", "following"),
        columns_doc=RATE_COLUMNS,
        order=20,
    )
)
