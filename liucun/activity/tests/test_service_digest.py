"""The service report from the per-day digest (inbox.measure_days) equals the set-based query over the
measures themselves (service_sql) and a brute-force count with inbox.queries.percentile, on random
measures, ranges and granularities; through the API, the report reads the same either way."""

from __future__ import annotations

import itertools
import random
from datetime import date, timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from liucun.accounts.models import OfficialAccount
from liucun.activity import service_days, service_sql
from liucun.activity.service_sql import BucketFigures
from liucun.analytics.periods import ReportQuery, day_start, site_zone
from liucun.console.tests.conftest import logged_in, make_user, member
from liucun.inbox.models import InboxSettings, Measure, MeasureDay
from liucun.inbox.queries import percentile
from liucun.staff.models import Role
from liucun.testing.factories import make_account
from liucun.testing.suites import random_histories

pytestmark = pytest.mark.django_db

FIRST_DAY = date(2026, 6, 1)
_users = itertools.count()

measure_strategy = st.tuples(
    st.sampled_from([Measure.Kind.FIRST_RESPONSE, Measure.Kind.RESOLUTION]),
    st.integers(0, 40),  # China day after FIRST_DAY
    st.sampled_from([0, 1, 3600 * 9, 86399, 86400 - 0.000001]),  # seconds into the day, edges included
    st.sampled_from([0.0, 60.0, 599.5, 600.0, 1800.0, 7200.0, 86400.0, 200_000.0]),  # wall seconds, ties
    st.sampled_from([1.0, 0.5, 0.0]),  # the share of them in service hours
)


def _add(account: OfficialAccount, measures: list[tuple[str, int, float, float, float]]) -> None:
    for kind, day, second, wall, share in measures:
        at = day_start(FIRST_DAY + timedelta(days=day)) + timedelta(seconds=second)
        started, ended = (at, at + timedelta(seconds=wall)) if kind == "first_response" else (
            at - timedelta(seconds=wall), at
        )  # fmt: skip
        Measure.objects.create(
            account=account, kind=kind, started_at=started, ended_at=ended, wall_seconds=wall,
            service_seconds=wall * share,
        )  # fmt: skip


def _brute_force(
    account: OfficialAccount, kind: str, query: ReportQuery, ranked: str, first: float, second: float
) -> dict[int, BucketFigures]:
    return figures_of(
        list(Measure.objects.filter(account=account, kind=kind)), kind, query, ranked, first, second
    )


def figures_of(
    measures: list[Measure], kind: str, query: ReportQuery, ranked: str, first: float, second: float
) -> dict[int, BucketFigures]:
    """Each bucket's figures from these measures, one by one: what the report must equal."""
    zone = site_zone()
    result = {}
    for i, bucket in enumerate(query.buckets()):
        chosen = [
            m
            for m in measures
            if bucket.first
            <= (m.started_at if kind == "first_response" else m.ended_at).astimezone(zone).date()
            <= bucket.last
        ]
        if not chosen:
            continue
        values = [m.service_seconds if ranked == "service" else m.wall_seconds for m in chosen]
        result[i] = BucketFigures(
            len(values),
            sum(1 for v in values if v <= first),
            sum(1 for m in chosen if m.wall_seconds <= second),
            percentile(values, 50),
            percentile(values, 90),
        )
    return result


def _from_measures(
    account: OfficialAccount, kind: str, query: ReportQuery, ranked: str, first: float, second: float
) -> dict[int, BucketFigures]:
    """The set-based query over the measures: what the report read before the digest, and reads when
    the digest was cut in another time zone."""
    since, until = day_start(query.start), day_start(query.end + timedelta(days=1))
    first_response = kind == "first_response"
    return service_sql.figures(
        account.pk,
        kind,
        time_column="started_at" if first_response else "ended_at",
        value_column=f"{ranked}_seconds",
        query=query,
        since=since,
        until=until,
        first_threshold=first,
        second_threshold=second,
        extra_lower_bound="ended_at" if first_response else "",
    )


@random_histories(30)
@given(
    measures=st.lists(measure_strategy, max_size=40),
    start=st.integers(0, 40),
    days=st.integers(1, 45),
    granularity=st.sampled_from(["day", "week", "month"]),
    target=st.sampled_from([0.0, 600.0, 1800.0]),
    promise=st.sampled_from([600.0, 86400.0]),
)
def test_the_digest_gives_the_figures_of_the_measures_themselves(
    measures: list[tuple[str, int, float, float, float]],
    start: int,
    days: int,
    granularity: str,
    target: float,
    promise: float,
) -> None:
    account = make_account()
    _add(account, measures)
    query = ReportQuery(
        FIRST_DAY + timedelta(days=start), FIRST_DAY + timedelta(days=start + days - 1), granularity
    )
    for kind, ranked, first, second in (
        (Measure.Kind.FIRST_RESPONSE, "service", target, promise),
        (Measure.Kind.RESOLUTION, "wall", 0.0, 0.0),
    ):
        digested = service_days.figures(
            account.pk, kind, query.buckets(), ranked=ranked, first_threshold=first, second_threshold=second
        )
        expected = _brute_force(account, kind, query, ranked, first, second)
        assert digested == expected
        assert _from_measures(account, kind, query, ranked, first, second) == expected


def _report(account: OfficialAccount, **params: str) -> dict[str, Any]:
    client: Client = logged_in(member(make_user(f"op{next(_users)}"), account, Role.OPERATOR))
    response = client.get(reverse("api:report_service", args=[account.appid]), params)
    assert response.status_code == 200, response.content
    return response.json()


def test_the_report_reads_the_same_from_the_digest_and_from_the_measures() -> None:
    account = make_account()
    InboxSettings.objects.create(account=account, first_response_minutes=15, promise_hours=8)
    rng = random.Random(21)
    _add(
        account,
        [
            (
                rng.choice(["first_response", "resolution"]),
                rng.randint(0, 60),
                rng.uniform(0, 86400),
                rng.lognormvariate(7, 1.5),
                rng.choice([1.0, 0.4]),
            )
            for _ in range(300)
        ],
    )
    span = {"start": FIRST_DAY.isoformat(), "end": (FIRST_DAY + timedelta(days=60)).isoformat()}
    digested = {g: _report(account, granularity=g, **span) for g in ("day", "week", "month")}
    assert sum(r["answered"] + r["resolved"] for r in digested["day"]["rows"]) == 300

    # Days cut in another time zone are not read: the report falls back to the measures.
    MeasureDay.objects.filter(account=account).update(zone="America/Sao_Paulo")
    for granularity, body in digested.items():
        assert _report(account, granularity=granularity, **span) == body


def test_a_day_of_a_busy_inbox_ranks_exactly() -> None:
    """1,000 questions on one day and 7,000 over its week: nearest ranks at the sizes the digest is for."""
    account = make_account()
    rng = random.Random(3)
    rows = []
    for i in range(7000):
        asked = day_start(date(2026, 6, 1) + timedelta(days=i % 7)) + timedelta(seconds=rng.uniform(0, 86399))
        wall = rng.lognormvariate(6, 1.3)
        rows.append(
            Measure(
                account=account, kind=Measure.Kind.FIRST_RESPONSE, started_at=asked,
                ended_at=asked + timedelta(seconds=wall), wall_seconds=wall, service_seconds=wall * 0.7,
            )
        )  # fmt: skip
    Measure.objects.bulk_create(rows)  # past Measure.save: made from the measures by a rebuild
    from liucun.inbox.measure_days import rebuild

    assert rebuild(account.pk) == 7000
    for granularity in ("day", "week"):
        query = ReportQuery(date(2026, 6, 1), date(2026, 6, 7), granularity)
        expected = _brute_force(account, "first_response", query, "service", 600.0, 3600.0)
        digested = service_days.figures(
            account.pk, "first_response", query.buckets(), ranked="service", first_threshold=600.0,
            second_threshold=3600.0,
        )  # fmt: skip
        assert digested == expected
        assert sum(f.n for f in expected.values()) == 7000
