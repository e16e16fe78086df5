"""The customer-service report: how fast fans' questions were answered, per day, week or month.

Read from the inbox's own records (inbox/models.py): a first-response Measure is written when an agent
answers a cycle's first waiting message, a resolution Measure when a conversation is resolved, and a
conversation still waiting has `waiting_since`. Questions are bucketed by when the fan asked (the
Measure's start), so a day's row says how that day's questions fared; resolutions by when they happened.
The measures are read from their per-day digest (inbox.measure_days: each day's values sorted), so a
year of a busy inbox is 365 short rows per kind instead of a sort of 365,000 measures; the waiting
conversations by one indexed range read (conv_state_waiting).

By channel (the fan's acquisition channel, as in every analytics report): the measures of the
conversations of that channel's fans (service_channels.py says which; each value in the digest names its
conversation), and the waiting conversations whose fan is in it. A measure without a conversation has no
fan and counts under "" (no QR code), so the channels add up to the whole account.
"""

from __future__ import annotations

from bisect import bisect_right
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.utils import timezone
from django.utils.translation import gettext as _g
from django.utils.translation import gettext_lazy as _

from liucun.accounts.models import OfficialAccount
from liucun.activity import service_channels, service_days, service_sql
from liucun.analytics.periods import Bucket, ReportQuery, day_start
from liucun.analytics.report import Column, Report
from liucun.inbox.assignment import settings_for
from liucun.inbox.models import Conversation, Measure, State

if TYPE_CHECKING:
    import numpy as np

SERVICE_COLUMNS = (
    Column("period", _("Period"), "date", _("The first day of the day, week (Monday) or month")),
    Column("asked", _("Questions"), "int", _("Fan messages that started a wait for a reply in the period")),
    Column("answered", _("Answered"), "int", _("Of those, answered by an agent so far")),
    Column("waiting", _("Still waiting"), "int", _("Of those, not answered yet")),
    Column(
        "first_response_p50", _("First response p50 (min)"), "float", _("Median, in service-hour minutes")
    ),
    Column("first_response_p90", _("First response p90 (min)"), "float", _("90th percentile, service hours")),
    Column(
        "within_target", _("Within target"), "rate", _("Answered within the account's first-response target")
    ),
    Column(
        "within_promise", _("Within promise"), "rate", _("Answered within the promise, of those due by now")
    ),
    Column("resolved", _("Resolved"), "int", _("Conversations resolved in the period")),
    Column("resolution_p50", _("Resolution p50 (h)"), "float", _("Median time from opening to resolution")),
)


def build_service(account: OfficialAccount, query: ReportQuery) -> Report:
    chosen = settings_for(account.pk)
    target = chosen.first_response_minutes * 60.0
    promise = chosen.promise_hours * 3600.0
    buckets = query.buckets()
    starts = [day_start(b.first) for b in buckets]
    since, until = starts[0], day_start(query.end + timedelta(days=1))
    conversations = (
        None if query.channel is None else service_channels.conversations_in(account.pk, query.channel)
    )
    first = _figures(
        account.pk,
        Measure.Kind.FIRST_RESPONSE,
        query=query,
        buckets=buckets,
        since=since,
        until=until,
        ranked="service",
        first_threshold=target,
        second_threshold=promise,
        conversations=conversations,
    )
    resolutions = _figures(
        account.pk,
        Measure.Kind.RESOLUTION,
        query=query,
        buckets=buckets,
        since=since,
        until=until,
        ranked="wall",
        first_threshold=0,
        second_threshold=0,
        conversations=conversations,
    )

    def bucket_of(at: datetime) -> int:
        return bisect_right(starts, at) - 1

    now = timezone.now()
    waiting = [0] * len(buckets)
    overdue = [0] * len(buckets)
    open_rows = Conversation.objects.filter(
        account=account, state=State.OPEN, waiting_since__gte=since, waiting_since__lt=until
    )
    if query.channel is not None:
        # A few hundred at most: each fan looked up directly (many have no measure, hence no row).
        open_rows = open_rows.annotate(fan_channel=service_channels.channel_now()).filter(
            fan_channel=query.channel
        )
    for (asked_at,) in open_rows.values_list("waiting_since"):
        if asked_at is None:
            continue
        i = bucket_of(asked_at)
        waiting[i] += 1
        if (now - asked_at).total_seconds() > promise:
            overdue[i] += 1

    rows: list[dict[str, Any]] = []
    nothing = service_sql.BucketFigures(0, 0, 0, None, None)
    for i, bucket in enumerate(buckets):
        f, r = first.get(i, nothing), resolutions.get(i, nothing)
        due = f.n + overdue[i]
        rows.append(
            {
                "period": bucket.first,
                "asked": f.n + waiting[i],
                "answered": f.n,
                "waiting": waiting[i],
                "first_response_p50": None if f.p50 is None else round(f.p50 / 60, 2),
                "first_response_p90": None if f.p90 is None else round(f.p90 / 60, 2),
                "within_target": round(f.within_first / f.n, 6) if f.n else None,
                "within_promise": round(f.within_second / due, 6) if due else None,
                "resolved": r.n,
                "resolution_p50": None if r.p50 is None else round(r.p50 / 3600, 2),
            }
        )
    answered = sum(f.n for f in first.values())
    findings = []
    if answered:
        within = sum(f.within_first for f in first.values()) / answered
        findings.append(
            _g(
                "%(n)d questions answered; %(share).0f %% within the %(target)d-minute target of service "
                "hours."
            )
            % {"n": answered, "share": within * 100, "target": chosen.first_response_minutes}
        )
    if sum(overdue):
        findings.append(
            _g("%(n)d questions from the range are still unanswered past the %(hours)d-hour promise.")
            % {"n": sum(overdue), "hours": chosen.promise_hours}
        )
    if not findings:
        findings.append(_g("No question reached the inbox in the range."))
    return Report(
        columns=list(SERVICE_COLUMNS),
        rows=rows,
        chart=_chart(rows),
        findings=findings,
        notes=[
            _g(
                "Questions are counted on the day the fan asked; first-response times count service hours "
                "only (the account's service hours and holidays), the promise counts wall-clock hours. A "
                "conversation resolved without a reply is not a question answered."
            ),
            _g(
                "By channel: the questions and resolutions of that channel's fans, a fan's channel being "
                "the QR code of the first follow Liucun stored for the fan. Fans who followed without a QR "
                "code, or whose follow Liucun never received, have none, nor do questions whose "
                "conversation is no longer known. Each fan is in one channel, so the channels' counts add "
                "up to the whole account's; their percentiles do not."
            ),
        ],
        meta={"target_minutes": chosen.first_response_minutes, "promise_hours": chosen.promise_hours},
    )


def _figures(
    account_id: int,
    kind: str,
    *,
    query: ReportQuery,
    buckets: list[Bucket],
    since: datetime,
    until: datetime,
    ranked: str,
    first_threshold: float,
    second_threshold: float,
    conversations: np.ndarray | None,
) -> dict[int, service_sql.BucketFigures]:
    digested = service_days.figures(
        account_id,
        kind,
        buckets,
        ranked=ranked,
        first_threshold=first_threshold,
        second_threshold=second_threshold,
        conversations=conversations,
    )
    if digested is not None:
        return digested
    # The digest was cut in another time zone: the measures themselves, one set-based query.
    first_response = kind == Measure.Kind.FIRST_RESPONSE
    return service_sql.figures(
        account_id,
        kind,
        time_column="started_at" if first_response else "ended_at",
        value_column=f"{ranked}_seconds",
        query=query,
        since=since,
        until=until,
        first_threshold=first_threshold,
        second_threshold=second_threshold,
        # A first response ends after it starts: the lower bound lets the measure_account index help.
        extra_lower_bound="ended_at" if first_response else "",
        channel=query.channel,
    )


def _chart(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "tooltip": {"trigger": "axis"},
        "legend": {},
        "xAxis": {"type": "category", "data": [r["period"].isoformat() for r in rows]},
        "yAxis": [{"type": "value", "name": _g("Questions")}, {"type": "value", "name": _g("Minutes")}],
        "series": [
            {
                "name": _g("Answered"),
                "type": "bar",
                "stack": "q",
                "itemStyle": {"color": "#3a9d5d"},
                "data": [r["answered"] for r in rows],
            },
            {
                "name": _g("Still waiting"),
                "type": "bar",
                "stack": "q",
                "itemStyle": {"color": "#d08a1f"},
                "data": [r["waiting"] for r in rows],
            },
            {
                "name": _g("First response p50 (min)"),
                "type": "line",
                "yAxisIndex": 1,
                "itemStyle": {"color": "#2f6fb0"},
                "data": [r["first_response_p50"] for r in rows],
            },
            {
                "name": _g("First response p90 (min)"),
                "type": "line",
                "yAxisIndex": 1,
                "itemStyle": {"color": "#c0392b"},
                "data": [r["first_response_p90"] for r in rows],
            },
        ],
    }
