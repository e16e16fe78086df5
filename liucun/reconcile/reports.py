"""The "reconciliation" report: WeChat's own follower statistics beside Liucun's counts, and why they differ.

view=day (default): one row per China day with both sides, the differences and the explanation.
view=source: per WeChat user_source over the pulled days of the range, beside what Liucun can split
(QR codes from follow events' scenes; every other source only together).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any

from django.utils.translation import get_language, gettext, gettext_lazy

from liucun.accounts.models import OfficialAccount
from liucun.analytics.periods import ReportQuery, today
from liucun.analytics.report import Column, Param, Report, ReportSpec, register
from liucun.reconcile import explain
from liucun.reconcile.explain import DayLine
from liucun.reconcile.figures import read_sides, source_totals
from liucun.reconcile.models import PullState, PullStatus
from liucun.reconcile.pulling import latest_available
from liucun.reconcile.sources import QR_CODE, source_name
from liucun.reconcile.status import refusal_text
from liucun.staff.models import Role

FINDINGS_SHOWN = 10


@lru_cache(maxsize=512)
def _translated(language: str | None, msgid: str) -> str:
    return gettext(msgid)


def _(msgid: str) -> str:
    """gettext, remembered per language: a year of rows asks for the same few sentences hundreds of times."""
    return _translated(get_language(), msgid)


DAY_COLUMNS = (
    Column("day", gettext_lazy("Day"), "date"),
    Column(
        "wechat_new", gettext_lazy("New follows (WeChat)"), help=gettext_lazy("new_user of getusersummary")
    ),
    Column(
        "liucun_new", gettext_lazy("New follows (Liucun)"), help=gettext_lazy("Follow callbacks received")
    ),
    Column("new_difference", gettext_lazy("Difference in follows")),
    Column(
        "wechat_unfollows",
        gettext_lazy("Unfollows (WeChat)"),
        help=gettext_lazy("cancel_user of getusersummary"),
    ),
    Column(
        "liucun_unfollows",
        gettext_lazy("Unfollows (Liucun)"),
        help=gettext_lazy("Unfollow callbacks received"),
    ),
    Column("unfollow_difference", gettext_lazy("Difference in unfollows")),
    Column(
        "found_by_sync",
        gettext_lazy("Lost, found by a sync"),
        help=gettext_lazy("Of this day's lost callbacks, how many a follower sync found since"),
    ),
    Column(
        "reconciled_unfollows",
        gettext_lazy("Unfollows a sync found"),
        help=gettext_lazy("Found by a follower sync this day, whenever the fans left"),
    ),
    Column(
        "wechat_cumulate",
        gettext_lazy("Followers (WeChat)"),
        help=gettext_lazy("cumulate_user of getusercumulate"),
    ),
    Column("liucun_following", gettext_lazy("Followers (Liucun)")),
    Column("cumulate_difference", gettext_lazy("Difference in followers")),
    Column(
        "status",
        gettext_lazy("Status"),
        "text",
        help=gettext_lazy("match, found, lost, unexplained, before_liucun, not_pulled or not_published"),
    ),
    Column("explanation", gettext_lazy("Explanation"), "text"),
)

SOURCE_COLUMNS = (
    Column("source", gettext_lazy("Source"), "text", help=gettext_lazy("WeChat's user_source, or a total")),
    Column("source_name", gettext_lazy("Source name"), "text"),
    Column("wechat_new", gettext_lazy("New follows (WeChat)")),
    Column("liucun_new", gettext_lazy("New follows (Liucun)")),
    Column("new_difference", gettext_lazy("Difference in follows")),
    Column("wechat_unfollows", gettext_lazy("Unfollows (WeChat)")),
    Column("liucun_unfollows", gettext_lazy("Unfollows (Liucun)")),
    Column("unfollow_difference", gettext_lazy("Difference in unfollows")),
    Column("note", gettext_lazy("Note"), "text"),
)


def build(account: OfficialAccount, query: ReportQuery) -> Report:
    if query.options.get("view") == "source":
        return _by_source(account, query)
    return _by_day(account, query)


def _by_day(account: OfficialAccount, query: ReportQuery) -> Report:
    now = datetime.now(UTC)
    published = latest_available(now)
    sides = read_sides(account, explain.lookback_start(query.start), query.end, today())
    lines = [line for line in explain.reconcile(sides, published) if line.day >= query.start]
    state = PullState.objects.filter(account=account).first()
    not_pulled_reason = _not_pulled_reason(account, state)
    rows = [_day_row(line, sides.liucun_since, not_pulled_reason) for line in lines]
    return Report(
        columns=list(DAY_COLUMNS),
        rows=rows,
        chart=_day_chart(lines),
        findings=_findings(lines),
        notes=_day_notes(),
        meta={
            "liucun_since": sides.liucun_since.isoformat() if sides.liucun_since else None,
            "latest_published": published.isoformat(),
            "pull_status": state.status if state else PullStatus.IDLE,
            "days": {
                line.day.isoformat(): {
                    "lost_follows": line.lost_follows,
                    "lost_unfollows": line.lost_unfollows,
                    "found_follows": line.found_follows,
                    "unfollows_found_by": [[d.isoformat(), n] for d, n in line.unfollows_found_by],
                }
                for line in lines
                if line.lost_follows or line.lost_unfollows
            },
        },
    )


def _day_row(line: DayLine, since: date | None, not_pulled_reason: str) -> dict[str, Any]:
    compared = line.status not in (explain.NOT_PULLED, explain.NOT_PUBLISHED)
    return {
        "day": line.day,
        "wechat_new": line.wechat_new,
        "liucun_new": line.liucun.new,
        "new_difference": line.new_difference,
        "wechat_unfollows": line.wechat_unfollows,
        "liucun_unfollows": line.liucun.unfollows,
        "unfollow_difference": line.unfollow_difference,
        "found_by_sync": line.found_follows + line.unfollows_found if compared else None,
        "reconciled_unfollows": line.liucun.reconciled,
        "wechat_cumulate": line.wechat_cumulate,
        "liucun_following": line.liucun_following,
        "cumulate_difference": line.cumulate_difference,
        "status": line.status,
        "explanation": " ".join(_explanation(line, since, not_pulled_reason)),
    }


def _explanation(line: DayLine, since: date | None, not_pulled_reason: str) -> list[str]:
    if line.status == explain.NOT_PUBLISHED:
        return [_("WeChat publishes a day's statistics the next morning (after 08:00 China time).")]
    if line.status == explain.NOT_PULLED:
        return [not_pulled_reason]
    if line.status == explain.BEFORE_LIUCUN:
        if since is None:
            return [_("Liucun has received no follow or unfollow yet: only WeChat counted this day.")]
        return [
            _("Before Liucun received anything (from %(since)s): only WeChat counted this day.")
            % {"since": since}
        ]
    parts = [*_losses(line)]
    if line.extra_follows:
        parts.append(_("Liucun received %(n)d more follows than WeChat counted.") % {"n": line.extra_follows})
    if line.extra_unfollows:
        parts.append(
            _("Liucun received %(n)d more unfollows than WeChat counted.") % {"n": line.extra_unfollows}
        )
    if line.reconciled_of_earlier:
        parts.append(
            _("The follower sync of this day found %(n)d unfollows whose callbacks were lost earlier.")
            % {"n": line.reconciled_of_earlier}
        )
    if line.cumulate_difference and not line.cumulate_explained:
        parts.append(
            _("Followers differ by %(n)d, more than the lost callbacks explain.")
            % {"n": line.cumulate_difference}
        )
    elif line.cumulate_difference and not (line.lost_follows or line.lost_unfollows):
        if line.unresolved:
            text = _("Followers differ by %(n)d: callbacks lost on earlier days, not yet found by a sync.")
        else:
            text = _("Followers differ by %(n)d: callbacks lost on earlier days, found by a later sync.")
        parts.append(text % {"n": line.cumulate_difference})
    return parts or [_("Both sides agree.")]


def _losses(line: DayLine) -> list[str]:
    parts = []
    if line.lost_follows:
        text = _("WeChat counted %(n)d more follows than Liucun received: callbacks lost;") % {
            "n": line.lost_follows
        }
        if line.found_follows:
            text += " " + _("the follower sync found %(n)d of these fans.") % {"n": line.found_follows}
        else:
            text += " " + _("no follower sync has found them yet.")
        parts.append(text)
    if line.lost_unfollows:
        text = _("WeChat counted %(n)d more unfollows than Liucun received: callbacks lost;") % {
            "n": line.lost_unfollows
        }
        found = [
            _("the follower sync of %(day)s found %(n)d") % {"day": d.isoformat(), "n": n}
            for d, n in line.unfollows_found_by
        ]
        left = line.lost_unfollows - line.unfollows_found
        if left:
            found.append(_("%(n)d not found by a sync yet") % {"n": left})
        text += " " + "; ".join(found) + "."
        parts.append(text)
    return parts


def _findings(lines: list[DayLine]) -> list[str]:
    findings = []
    differing = [line for line in lines if line.status in (explain.FOUND, explain.LOST, explain.UNEXPLAINED)]
    for line in differing[:FINDINGS_SHOWN]:
        for part in _losses(line):
            findings.append(_("%(day)s: %(text)s") % {"day": line.day.isoformat(), "text": part})
        if line.status == explain.UNEXPLAINED:
            findings.append(
                _("%(day)s: the two sides differ in a way lost callbacks do not explain.")
                % {"day": line.day.isoformat()}
            )
    if len(differing) > FINDINGS_SHOWN:
        findings.append(_("%(n)d more days differ; see the table.") % {"n": len(differing) - FINDINGS_SHOWN})
    compared = [
        line
        for line in lines
        if line.status not in (explain.NOT_PULLED, explain.NOT_PUBLISHED, explain.BEFORE_LIUCUN)
    ]
    if compared and not differing:
        findings.append(_("Every pulled day since Liucun began matches WeChat's statistics."))
    missing = sum(1 for line in lines if line.status == explain.NOT_PULLED)
    if missing:
        findings.append(_("%(n)d days of the range are not pulled from WeChat yet.") % {"n": missing})
    return findings


def _not_pulled_reason(account: OfficialAccount, state: PullState | None) -> str:
    if not account.capabilities.datacube:
        return _("Not pulled: WeChat gives follower statistics to verified accounts only.")
    if state is not None and state.status in (PullStatus.REFUSED, PullStatus.FAILED):
        return _("Not pulled: %(reason)s") % {"reason": refusal_text(state)}
    return _("Not pulled from WeChat yet.")


def _day_chart(lines: list[DayLine]) -> dict[str, Any]:
    days = [line.day.isoformat() for line in lines]
    series = [
        ("bar", _("Difference in follows"), [line.new_difference for line in lines]),
        ("bar", _("Difference in unfollows"), [line.unfollow_difference for line in lines]),
        ("line", _("Difference in followers"), [line.cumulate_difference for line in lines]),
    ]
    return {
        "tooltip": {"trigger": "axis"},
        "legend": {"top": 0},
        "grid": {"left": 48, "right": 16, "top": 40, "bottom": 32},
        "xAxis": {"type": "category", "data": days},
        "yAxis": {"type": "value", "minInterval": 1},
        "color": ["#d9822b", "#c23531", "#2f6fb0"],
        "series": [{"type": kind, "name": name, "data": data} for kind, name, data in series],
    }


def _day_notes() -> list[str]:
    return [
        _(
            "WeChat's side is what getusersummary and getusercumulate answered, pulled daily; Liucun's side "
            "is the callbacks it received (follows, refollows, unfollows) by the day WeChat stamped them."
        ),
        _(
            "A lost follow callback is found by a follower sync on the day the fan followed; a lost unfollow "
            "is found on the day of the sync, and is matched here to the oldest lost unfollows first."
        ),
        _("Differences are WeChat's figure minus Liucun's."),
    ]


def _by_source(account: OfficialAccount, query: ReportQuery) -> Report:
    totals = source_totals(account, query.start, query.end)
    rows: list[dict[str, Any]] = []
    cannot_split = _("Liucun cannot tell this source apart: callbacks name only a QR scene.")
    for source in sorted(totals.wechat):
        new, cancel = totals.wechat[source]
        row: dict[str, Any] = {"source": str(source), "source_name": source_name(source)}
        row.update(wechat_new=new, wechat_unfollows=cancel)
        if source == QR_CODE:
            row.update(_liucun_pair(totals.qr, new, cancel))
            row["note"] = _("QR codes: follow events carry the scene.")
        else:
            row.update(liucun_new=None, liucun_unfollows=None, new_difference=None, unfollow_difference=None)
            row["note"] = cannot_split
        rows.append(row)
    other_new = sum(n for s, (n, _c) in totals.wechat.items() if s != QR_CODE)
    other_cancel = sum(c for s, (_n, c) in totals.wechat.items() if s != QR_CODE)
    if QR_CODE not in totals.wechat and totals.qr != (0, 0):
        rows.append(
            {
                "source": str(QR_CODE),
                "source_name": source_name(QR_CODE),
                "wechat_new": 0,
                "wechat_unfollows": 0,
                **_liucun_pair(totals.qr, 0, 0),
                "note": _("QR codes: follow events carry the scene."),
            }
        )
    rows.append(
        {
            "source": "other",
            "source_name": _("Every source but QR codes"),
            "wechat_new": other_new,
            "wechat_unfollows": other_cancel,
            **_liucun_pair(totals.other, other_new, other_cancel),
            "note": _("Follows without a QR scene, together."),
        }
    )
    all_new, all_cancel = (
        other_new + totals.wechat.get(QR_CODE, (0, 0))[0],
        other_cancel + totals.wechat.get(QR_CODE, (0, 0))[1],
    )
    both = (totals.qr[0] + totals.other[0], totals.qr[1] + totals.other[1])
    rows.append(
        {
            "source": "all",
            "source_name": _("All sources"),
            "wechat_new": all_new,
            "wechat_unfollows": all_cancel,
            **_liucun_pair(both, all_new, all_cancel),
            "note": "",
        }
    )
    return Report(
        columns=list(SOURCE_COLUMNS),
        rows=rows,
        chart={
            "tooltip": {"trigger": "axis"},
            "legend": {"top": 0},
            "grid": {"left": 48, "right": 16, "top": 40, "bottom": 64},
            "xAxis": {
                "type": "category",
                "data": [r["source_name"] for r in rows],
                "axisLabel": {"rotate": 30},
            },
            "yAxis": {"type": "value", "minInterval": 1},
            "color": ["#2f6fb0", "#7fb3e0", "#c23531", "#e8a09e"],
            "series": [
                {"type": "bar", "name": str(c.label), "data": [r[c.key] for r in rows]}
                for c in SOURCE_COLUMNS
                if c.key in ("wechat_new", "liucun_new", "wechat_unfollows", "liucun_unfollows")
            ],
        },
        notes=[
            _("Over the %(n)d pulled days of the range; days not pulled are left out on both sides.")
            % {"n": totals.pulled_days},
            _(
                "WeChat counts an unfollow under the source of the fan's follow; Liucun under the channel of "
                "the fan's latest follow. Callbacks say only whether a follow came through a QR code."
            ),
        ],
        meta={"pulled_days": totals.pulled_days},
    )


def _liucun_pair(ours: tuple[int, int], wechat_new: int, wechat_cancel: int) -> dict[str, int]:
    return {
        "liucun_new": ours[0],
        "liucun_unfollows": ours[1],
        "new_difference": wechat_new - ours[0],
        "unfollow_difference": wechat_cancel - ours[1],
    }


register(
    ReportSpec(
        "reconciliation",
        gettext_lazy("Reconciliation with WeChat"),
        gettext_lazy(
            "WeChat's own follower statistics (getusersummary, getusercumulate: new follows, unfollows and "
            "followers per day) beside the callbacks Liucun received, the difference, and why: callbacks "
            "lost and found by a follower sync, days before Liucun, days not pulled or not yet published. "
            "view=source compares WeChat's user_source with what Liucun can attribute."
        ),
        build,
        reads=("daily-follows",),
        columns_doc=DAY_COLUMNS,
        params=(
            Param(
                "view",
                gettext_lazy("View"),
                "day",
                (("day", gettext_lazy("By day")), ("source", gettext_lazy("By source"))),
            ),
        ),
        default_days=30,
        granularities=("day",),
        by_channel=False,
        minimum_role=Role.OPERATOR,
        order=90,
    )
)
