"""The push-impact report on hand-made hourly rows, where every number can be worked out by hand."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from scipy import stats

from liucun.console.tests.conftest import logged_in, make_user, member
from liucun.pushimpact.consumer import hour_of
from liucun.pushimpact.models import HourlyFlows, HourlyTotals, Push, PushSource
from liucun.pushimpact.statistics import rate_difference
from liucun.pushimpact.tests.fixtures import HOUR0, steady_hours
from liucun.staff.models import Role
from liucun.testing.factories import make_account

pytestmark = pytest.mark.django_db


def _push(account, at, title, **holdout):  # type: ignore[no-untyped-def]
    return Push.objects.create(account=account, at=at, title=title, source=PushSource.ANNOTATION, **holdout)


def test_excess_test_exclusions_and_holdout_on_known_rows() -> None:
    account = make_account()
    steady_hours(account, 24 * 50, channel="store")  # 1 unfollow an hour, 1,000 fans following throughout
    a_at = HOUR0 + timedelta(days=35, hours=12, minutes=30)
    # The harmful push: 30 more unfollows in its hour (and 30 more follows, so the audience stays 1,000).
    bump = hour_of(HOUR0) + 35 * 24 + 12
    HourlyFlows.objects.filter(account=account, hour=bump).update(follows=31, unfollows=31)
    HourlyTotals.objects.filter(account=account, hour=bump).update(follows=31, unfollows=31)
    harmful = _push(account, a_at, "春节促销")
    # Inside the harmful push's first baseline week: that week is left out of its expectation.
    quiet = _push(account, HOUR0 + timedelta(days=28, hours=18), "日常推送")
    # Too early: no earlier week has data.
    early = _push(account, HOUR0 + timedelta(days=1), "开业")
    holdout = {"recipients": 10000, "recipients_unfollowed": 150, "holdout": 1000, "holdout_unfollowed": 5}
    held = _push(account, HOUR0 + timedelta(days=44, hours=12), "留存实验", **holdout)

    operator = logged_in(member(make_user("op"), account, Role.OPERATOR))
    start = (HOUR0 + timedelta(hours=8)).date()
    params = {"start": start.isoformat(), "end": (start + timedelta(days=46)).isoformat()}
    body = operator.get(reverse("api:report_push_impact", args=[account.appid]), params).json()
    rows = {row["title"]: row for row in body["rows"]}

    assert [r["title"] for r in body["rows"]] == ["春节促销", "日常推送", "留存实验", "开业"]
    a = rows[harmful.title]
    assert (a["unfollows_24h"], a["expected_24h"], a["excess_24h"], a["baseline_weeks"]) == (
        54,
        24.0,
        30.0,
        3,
    )
    assert (a["unfollows_72h"], a["expected_72h"]) == (102, 72.0)
    assert (a["time"], a["flagged"]) == ("2026-02-09 20:30", True)
    # Six tests in the range (three pushes x two windows); the harmful 24 h one is the smallest: Holm x 6.
    assert a["p_24h"] == float(f"{6 * stats.poisson.sf(53, 24):.3g}")
    assert body["meta"]["models"] == {"24h": "poisson", "72h": "poisson"}

    q = rows[quiet.title]
    # Its fourth week back (day 0.75) overlaps the 72 h after the opening push (day 1): left out.
    assert (q["unfollows_24h"], q["expected_24h"], q["baseline_weeks"], q["flagged"]) == (24, 24.0, 3, False)
    e = rows[early.title]
    assert (e["unfollows_24h"], e["expected_24h"], e["p_24h"], e["baseline_weeks"]) == (24, None, None, 0)
    h = rows[held.title]
    expected = rate_difference(10000, 150, 1000, 5)
    assert expected is not None
    assert (h["holdout_difference"], h["holdout_low"], h["holdout_high"]) == (
        round(expected.difference, 5),
        round(expected.low, 5),
        round(expected.high, 5),
    )
    assert rows[harmful.title]["holdout_difference"] is None
    assert body["findings"] == [
        "“春节促销” (2026-02-09 20:30) cost about 30 more unfollows than usual in 24 h (p < 0.001).",
        "1 of the pushes have fewer than 2 comparable earlier weeks of data and are not judged.",
    ]

    other_channel = operator.get(
        reverse("api:report_push_impact", args=[account.appid]), {**params, "channel": "elsewhere"}
    ).json()
    assert {r["unfollows_24h"] for r in other_channel["rows"]} == {0}
    assert not any(r["flagged"] for r in other_channel["rows"])


def test_a_push_whose_window_is_not_over_is_shown_but_not_judged() -> None:
    from liucun.analytics.periods import today

    account = make_account()
    operator = logged_in(member(make_user("op"), account, Role.OPERATOR))
    page = operator.get(reverse("console:report", args=[account.appid, "push-impact"]))
    assert page.status_code == 200 and b"Nothing in this range." in page.content
    from django.utils import timezone

    _push(account, timezone.now() - timedelta(hours=2), "刚刚")
    body = operator.get(reverse("api:report_push_impact", args=[account.appid]), {"end": today().isoformat()})
    (row,) = body.json()["rows"]
    assert (row["unfollows_24h"], row["unfollows_72h"], row["flagged"]) == (None, None, False)
