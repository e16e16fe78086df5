"""The activity reports (issue 13): interactions, lifecycle, menu clicks, H5 visits, customer service."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from liucun.activity.interactions import (
    INTERACTION_COLUMNS,
    LIFECYCLE_COLUMNS,
    build_interactions,
    build_lifecycle,
)
from liucun.activity.menu_report import H5_COLUMNS, MENU_COLUMNS, build_h5_visits, build_menu_clicks
from liucun.activity.service import SERVICE_COLUMNS, build_service
from liucun.analytics.report import ReportSpec, register

register(
    ReportSpec(
        "lifecycle",
        _("Lifecycle"),
        _(
            "Active fans per week (or day, month) split as in PostHog's lifecycle: new (first active "
            "period), returning (active the period before too), resurrecting (active again after a quiet "
            "period) and dormant (active the period before, not in this one; drawn below zero). Active "
            "means a fan-initiated interaction: a message, a menu tap, a scan or another fan action. "
            "By channel: the QR code of the fan's first follow."
        ),
        build_lifecycle,
        reads=("fan-activity",),
        columns_doc=LIFECYCLE_COLUMNS,
        default_days=84,
        granularities=("week", "day", "month"),
        order=50,
    )
)

register(
    ReportSpec(
        "interactions",
        _("Interactions"),
        _(
            "Fan-initiated interactions per day, week or month by kind (messages, menu taps, scans, other "
            "actions), the distinct fans who interacted, and the interaction rate: interacting fans / fans "
            "following at the end of the period (累积关注人数). By channel: the QR code of the fan's first "
            "follow."
        ),
        build_interactions,
        reads=("fan-activity", "following"),
        columns_doc=INTERACTION_COLUMNS,
        order=60,
    )
)

register(
    ReportSpec(
        "menu-clicks",
        _("Menu clicks"),
        _(
            "Per menu button: taps, unique fans and the click rate (unique fans / fans following at the "
            "end of the range); the chart shows taps per day, week or month for the busiest buttons. By "
            "channel: the QR code of the fan's first follow."
        ),
        build_menu_clicks,
        reads=("menu-clicks", "following"),
        columns_doc=MENU_COLUMNS,
        order=65,
    )
)

register(
    ReportSpec(
        "h5-visits",
        _("H5 visits"),
        _(
            "Web pages (H5) opened from the menu: visits and unique fans per URL, and the share of following "
            "fans who opened each; the chart shows visits per day, week or month. By channel: the QR code of "
            "the fan's first follow."
        ),
        build_h5_visits,
        reads=("menu-clicks", "following"),
        columns_doc=H5_COLUMNS,
        order=66,
    )
)

register(
    ReportSpec(
        "service",
        _("Customer service"),
        _(
            "Fans' questions per day, week or month by when they were asked: answered and still waiting, "
            "first-response time p50/p90 in service hours, the share answered within the account's target "
            "and within the promise, and resolutions. By channel: the QR code of the fan's first follow."
        ),
        build_service,
        # A channel's conversations come from the fan-activity read model (the fan's first follow).
        reads=("inbox-conversations",),
        reads_by_channel=("fan-activity",),
        columns_doc=SERVICE_COLUMNS,
        order=68,
    )
)
