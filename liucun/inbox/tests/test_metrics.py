"""Response-commitment metrics on a constructed history, and the urgency of a waiting conversation in
service hours."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model

from liucun.console.tests.conftest import logged_in, member
from liucun.inbox.commitment import Commitment, Urgency
from liucun.inbox.models import Conversation, InboxSettings, Measure, OpenedBy, State
from liucun.inbox.queries import Figures, metrics, percentile
from liucun.servicehours.hours import build_schedule
from liucun.staff.models import Role
from liucun.testing.factories import make_account

UNTIL = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def test_percentile_is_the_nearest_rank() -> None:
    assert percentile([], 50) is None
    assert percentile([5.0], 90) == 5.0
    assert percentile([9000, 600, 3000, 1200, 4000], 50) == 3000
    assert percentile([9000, 600, 3000, 1200, 4000], 90) == 9000
    assert percentile(list(range(1, 11)), 90) == 9


@pytest.mark.django_db
def test_metrics_per_account_and_per_agent_are_exact() -> None:
    account = make_account()
    InboxSettings.objects.create(account=account, first_response_minutes=60, promise_hours=2)
    users = get_user_model().objects
    li = member(users.create_user("li"), account, Role.AGENT)
    wang = member(users.create_user("wang"), account, Role.AGENT)

    def measure(kind: str, agent: object, wall: float, service: float, ended: datetime = UNTIL) -> None:
        Measure.objects.create(
            account=account, kind=kind, agent=agent, started_at=ended - timedelta(seconds=wall),
            ended_at=ended - timedelta(minutes=1), wall_seconds=wall, service_seconds=service,
        )  # fmt: skip

    first = Measure.Kind.FIRST_RESPONSE
    measure(first, li, 600, 600)
    measure(first, li, 1200, 1200)
    measure(first, li, 3000, 3000)
    measure(first, wang, 8000, 4000)  # overnight: long on the clock, short in service hours
    measure(first, wang, 9000, 9000)
    measure(first, wang, 60, 60, ended=UNTIL - timedelta(days=8))  # before the period
    measure(Measure.Kind.RESOLUTION, li, 1800, 1800)
    measure(Measure.Kind.RESOLUTION, wang, 7200, 7200)
    overdue = UNTIL - timedelta(hours=3)
    Conversation.objects.create(
        account=account, openid="oLate", state=State.OPEN, opened_by=OpenedBy.MESSAGE, opened_at=overdue,
        waiting_since=overdue, assigned_to=wang,
    )  # fmt: skip
    Conversation.objects.create(
        account=account, openid="oRecent", state=State.OPEN, opened_by=OpenedBy.MESSAGE,
        opened_at=UNTIL - timedelta(hours=1), waiting_since=UNTIL - timedelta(hours=1),
    )  # fmt: skip

    found = metrics(account.pk, UNTIL - timedelta(days=7), UNTIL)
    assert (found.target_seconds, found.promise_seconds) == (3600.0, 7200.0)
    assert found.account == Figures(
        answered=5, first_response_p50=3000, first_response_p90=9000, within_target=0.6,
        within_promise=0.5, overdue=1, resolved=2, resolution_p50=1800, resolution_p90=7200,
    )  # fmt: skip
    assert dict(found.agents) == {
        "li": Figures(
            answered=3, first_response_p50=1200, first_response_p90=3000, within_target=1.0,
            within_promise=1.0, overdue=0, resolved=1, resolution_p50=1800, resolution_p90=1800,
        ),
        "wang": Figures(
            answered=2, first_response_p50=4000, first_response_p90=9000, within_target=0.0,
            within_promise=0.0, overdue=1, resolved=1, resolution_p50=7200, resolution_p90=7200,
        ),
    }  # fmt: skip
    # The page shows the same figures.
    operator = member(users.create_user("boss"), account, Role.OPERATOR)
    page = logged_in(operator).get(f"/a/{account.appid}/inbox/metrics/?days=30").content.decode()
    assert "3000 s" in page and "9000 s" in page and "50 %" in page


def test_urgency_counts_service_hours_only() -> None:
    # Every day 09:00-21:00 China time (01:00-13:00 UTC); the target is 60 minutes, the promise 48 h.
    schedule = build_schedule([[d, "09:00", "21:00"] for d in range(7)], [])
    commitment = Commitment(InboxSettings(first_response_minutes=60, promise_hours=48), schedule)
    asked = datetime(2026, 11, 29, 12, 50, tzinfo=UTC)  # 20:50 in China: 10 service minutes left today
    c = Conversation(opened_at=asked, waiting_since=asked)
    assert commitment.urgency(c, asked + timedelta(hours=12)) == Urgency.NONE  # 08:50 next day: 10 min
    assert commitment.urgency(c, asked + timedelta(hours=12, minutes=40)) == Urgency.NONE  # 09:30: 40 min
    assert commitment.urgency(c, asked + timedelta(hours=12, minutes=50)) == Urgency.DUE_SOON  # 09:40: 50 min
    assert commitment.urgency(c, asked + timedelta(hours=13, minutes=1)) == Urgency.OVER_TARGET
    assert commitment.urgency(c, asked + timedelta(hours=49)) == Urgency.OVER_PROMISE
    assert commitment.urgency(Conversation(opened_at=asked), asked + timedelta(hours=49)) == Urgency.NONE
