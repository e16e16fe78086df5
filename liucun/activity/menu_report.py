"""The menu-clicks and H5-visits reports, from the menus app's click read model (menus/clicks.py).

menus.queries.menu_stats answers the same questions for the menus page, but counts following fans from
every follow period, which at a million fans costs more than the report's budget; these read the
following line of the analytics read model instead (analytics.following). Unique fans over the range
are exact, summed from the click read model's gap rows (menus.queries.range_fans), not counted distinct
over one row per fan and day.

The click tables are kept per acquisition channel (the QR scene of the fan's first follow, as for fan
activity) and for every channel at once: a report with a channel reads that channel's rows, one without
the all-channel rows (MenuClickDayAll and the gap rows range_fans reads), as many rows as before channels.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext as _g
from django.utils.translation import gettext_lazy as _

from liucun.accounts.models import OfficialAccount
from liucun.analytics.following import following_lines
from liucun.analytics.periods import ReportQuery
from liucun.analytics.report import Column, Report
from liucun.menus.models import MenuClickDay, MenuClickDayAll
from liucun.menus.queries import button_names, range_fans

CHART_BUTTONS = 8  # the busiest buttons get their own series; the rest are summed as "other"
WEB = Q(button__startswith="http://") | Q(button__startswith="https://")

MENU_COLUMNS = (
    Column("button", _("Button"), "text", _("The button's key, or a link button's URL")),
    Column("name", _("Name"), "text", _("The button's name in the menu (empty when no menu names it)")),
    Column("clicks", _("Clicks"), "int"),
    Column("fans", _("Unique fans"), "int", _("Distinct fans who tapped it in the range")),
    Column("click_rate", _("Click rate"), "rate", _("Unique fans / fans following at the end of the range")),
)
H5_COLUMNS = (
    Column("url", _("Page"), "text", _("The URL a menu link opened")),
    Column("name", _("Name"), "text", _("The button's name in the menu (empty when no menu names it)")),
    Column("visits", _("Visits"), "int"),
    Column("fans", _("Unique fans"), "int", _("Distinct fans who opened it in the range")),
    Column("visit_rate", _("Visit rate"), "rate", _("Unique fans / fans following at the end of the range")),
)


def _clicks(account: OfficialAccount, query: ReportQuery, only_web: bool) -> dict[str, Any]:
    in_range = Q(account=account, day__gte=query.start, day__lte=query.end)
    if only_web:
        in_range &= WEB
    buckets = query.buckets()
    index: dict[date, int] = {}
    for i, b in enumerate(buckets):
        for n in range((b.last - b.first).days + 1):
            index[date.fromordinal(b.first.toordinal() + n)] = i
    # Per day and button: one channel's row, or the row of every channel.
    rows: Iterable[tuple[date, str, int]]
    if query.channel is None:
        rows = MenuClickDayAll.objects.filter(in_range).values_list("day", "button", "clicks")
    else:
        rows = MenuClickDay.objects.filter(in_range, channel=query.channel).values_list(
            "day", "button", "clicks"
        )
    totals: Counter[str] = Counter()
    per_bucket: dict[str, list[int]] = {}
    for day, button, clicks in rows:
        totals[button] += clicks
        per_bucket.setdefault(button, [0] * len(buckets))[index[day]] += clicks
    distinct = range_fans(account.pk, query.start, query.end, query.channel)
    fans = {b: n for b, n in distinct.buttons.items() if b in totals}
    everyone = (distinct.web if only_web else distinct.any) if totals else 0
    following = following_lines(account.pk).series([query.end], query.channel)[0]
    names = button_names(account.pk)
    return {
        "buckets": buckets,
        "totals": totals,
        "per_bucket": per_bucket,
        "fans": fans,
        "everyone": everyone,
        "following": following,
        "names": names,
    }


def _channel_notes() -> list[str]:
    return [
        _g(
            "A fan's channel is the QR code of the first follow Liucun stored for the fan; fans who followed "
            "without a QR code, or whose follow Liucun never received, have none. A fan who refollowed "
            "through another QR code still counts under the first, so each fan is in one channel and the "
            "channels add up to the whole account."
        ),
        _g(
            "With a channel, the rate divides by the fans following through that channel at the end, where "
            "a fan who unfollowed and came back through another QR code counts under the new one: for such "
            "fans the two can differ."
        ),
    ]


def _rate(n: int, following: int) -> float | None:
    return round(n / following, 6) if following > 0 else None


def _chart(data: dict[str, Any], other: str) -> dict[str, Any]:
    ranked = [b for b, _n in sorted(data["totals"].items(), key=lambda kv: (-kv[1], kv[0]))]
    series = [
        {
            "name": data["names"].get(b) or b,
            "type": "bar",
            "stack": "clicks",
            "data": data["per_bucket"][b],
        }
        for b in ranked[:CHART_BUTTONS]
    ]
    rest = ranked[CHART_BUTTONS:]
    if rest:
        summed = [sum(data["per_bucket"][b][i] for b in rest) for i in range(len(data["buckets"]))]
        series.append({"name": other, "type": "bar", "stack": "clicks", "data": summed})
    return {
        "tooltip": {"trigger": "axis"},
        "legend": {"type": "scroll"},
        "xAxis": {"type": "category", "data": [b.label for b in data["buckets"]]},
        "yAxis": {"type": "value"},
        "series": series,
    }


def build_menu_clicks(account: OfficialAccount, query: ReportQuery) -> Report:
    data = _clicks(account, query, only_web=False)
    rows = [
        {
            "button": button,
            "name": data["names"].get(button, ""),
            "clicks": clicks,
            "fans": data["fans"].get(button, 0),
            "click_rate": _rate(data["fans"].get(button, 0), data["following"]),
        }
        for button, clicks in sorted(data["totals"].items(), key=lambda kv: (-kv[1], kv[0]))
    ]
    rate = _rate(data["everyone"], data["following"])
    findings = []
    if rows and rate is not None:
        findings.append(
            _g("%(fans)d fans tapped the menu: %(rate).1f %% of the %(following)d following at the end.")
            % {"fans": data["everyone"], "rate": rate * 100, "following": data["following"]}
        )
    elif not rows:
        findings.append(_g("Nobody tapped the menu in the range."))
    return Report(
        columns=list(MENU_COLUMNS),
        rows=rows,
        chart=_chart(data, _g("Other buttons")),
        findings=findings,
        notes=[
            _g(
                "Clicks count every tap; unique fans are exact distinct fans over the whole range. A link "
                "button is named by its URL."
            ),
            *_channel_notes(),
        ],
        meta={
            "menu_click_rate": rate,
            "clicking_fans": data["everyone"],
            "following_at_end": data["following"],
        },
    )


def build_h5_visits(account: OfficialAccount, query: ReportQuery) -> Report:
    data = _clicks(account, query, only_web=True)
    rows = [
        {
            "url": url,
            "name": data["names"].get(url, ""),
            "visits": visits,
            "fans": data["fans"].get(url, 0),
            "visit_rate": _rate(data["fans"].get(url, 0), data["following"]),
        }
        for url, visits in sorted(data["totals"].items(), key=lambda kv: (-kv[1], kv[0]))
    ]
    findings = []
    if rows:
        findings.append(
            _g("%(fans)d fans opened %(pages)d pages from the menu, %(visits)d visits in all.")
            % {"fans": data["everyone"], "pages": len(rows), "visits": sum(r["visits"] for r in rows)}
        )
    else:
        findings.append(_g("No page was opened from the menu in the range."))
    return Report(
        columns=list(H5_COLUMNS),
        rows=rows,
        chart=_chart(data, _g("Other pages")),
        findings=findings,
        notes=[
            _g(
                "A visit is a tap on a menu button that opens a web page (WeChat's VIEW event); links inside "
                "articles and messages are not reported to the account."
            ),
            *_channel_notes(),
        ],
        meta={"visiting_fans": data["everyone"], "following_at_end": data["following"]},
    )
