"""The reconciliation report over stored rows: differences, their explanation, findings, the source view."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from liucun.analytics.periods import today
from liucun.console.tests.conftest import logged_in, make_user, member
from liucun.readmodels.models import DailyFollows
from liucun.reconcile.models import PullState, PullStatus, SyncFoundDay, WeChatDay, WeChatSourceDay
from liucun.staff.models import Role
from liucun.testing.factories import make_account

pytestmark = pytest.mark.django_db


def _wechat(
    account: Any, day: date, new: int, cancel: int, cumulate: int, sources: dict[int, tuple[int, int]]
) -> None:
    WeChatDay.objects.create(
        account=account,
        day=day,
        new_user=new,
        cancel_user=cancel,
        cumulate_user=cumulate,
        pulled_at=timezone.now(),
    )
    for source, (n, c) in sources.items():
        WeChatSourceDay.objects.create(
            account=account, day=day, user_source=source, new_user=n, cancel_user=c
        )


def _ours(account: Any, day: date, channel: str = "", **counts: int) -> None:
    DailyFollows.objects.create(account=account, day=day, channel=channel, **counts)


def _get(client: Any, account: Any, **params: str) -> dict[str, Any]:
    answer = client.get(
        reverse("api:report_reconciliation", args=[account.appid]), params, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert answer.status_code == 200, answer.content
    return answer.json()


@pytest.fixture
def history() -> tuple[Any, list[date]]:
    """Six days ending three days ago. Day 0: before Liucun (10 fans from before). Day 1: equal. Day 2:
    3 unfollow callbacks and 1 follow callback lost. Day 3: equal. Day 4: the follower sync finds the 3
    unfollows (dated on its day) and the fan (dated day 2). Day 5: not pulled."""
    account = make_account()
    d = [today() - timedelta(days=8 - i) for i in range(6)]
    _wechat(account, d[0], 10, 0, 10, {0: (10, 0)})
    _wechat(account, d[1], 5, 1, 14, {0: (2, 1), 30: (3, 0)})
    _ours(account, d[1], follows=2, unfollows=1)
    _ours(account, d[1], "store_1", follows=3)
    _wechat(account, d[2], 4, 3, 15, {0: (1, 2), 30: (3, 1)})
    _ours(account, d[2], "store_1", follows=3)  # one QR follow and every unfollow callback lost
    _wechat(account, d[3], 1, 0, 16, {0: (1, 0)})
    _ours(account, d[3], follows=1)
    _wechat(account, d[4], 0, 0, 16, {})
    _ours(account, d[4], reconciled_unfollows=3)
    SyncFoundDay.objects.create(account=account, day=d[2], found=1)
    SyncFoundDay.objects.create(account=account, day=d[0], found=10)
    return account, d


def test_each_day_beside_wechat_with_the_lost_callbacks_explained(history: tuple[Any, list[date]]) -> None:
    account, d = history
    operator = logged_in(member(make_user("op"), account, Role.OPERATOR))
    body = _get(operator, account, start=d[0].isoformat(), end=d[5].isoformat())
    rows = {r["day"]: r for r in body["rows"]}
    keys = (
        "wechat_new",
        "liucun_new",
        "new_difference",
        "wechat_unfollows",
        "liucun_unfollows",
        "unfollow_difference",
        "found_by_sync",
        "reconciled_unfollows",
        "wechat_cumulate",
        "liucun_following",
        "cumulate_difference",
        "status",
    )
    table = [tuple(rows[day.isoformat()][k] for k in keys) for day in d]
    assert table == [
        (10, 0, 10, 0, 0, 0, 0, 0, 10, 10, 0, "before_liucun"),
        (5, 5, 0, 1, 1, 0, 0, 0, 14, 14, 0, "match"),
        (4, 3, 1, 3, 0, 3, 4, 0, 15, 18, -3, "found"),
        (1, 1, 0, 0, 0, 0, 0, 0, 16, 19, -3, "found"),
        (0, 0, 0, 0, 0, 0, 0, 3, 16, 16, 0, "match"),
        (None, 0, None, None, 0, None, None, 0, None, 16, None, "not_pulled"),
    ]
    s = d[1].isoformat()
    assert rows[d[0].isoformat()]["explanation"] == (
        f"Before Liucun received anything (from {s}): only WeChat counted this day."
    )
    sync_day = d[4].isoformat()
    assert rows[d[2].isoformat()]["explanation"] == (
        "WeChat counted 1 more follows than Liucun received: callbacks lost; the follower sync found 1 of "
        "these fans. WeChat counted 3 more unfollows than Liucun received: callbacks lost; the follower sync "
        f"of {sync_day} found 3."
    )
    assert rows[d[3].isoformat()]["explanation"] == (
        "Followers differ by -3: callbacks lost on earlier days, found by a later sync."
    )
    assert rows[d[5].isoformat()]["explanation"] == "Not pulled from WeChat yet."
    assert body["findings"] == [
        f"{d[2].isoformat()}: WeChat counted 1 more follows than Liucun received: callbacks lost; the "
        "follower sync found 1 of these fans.",
        f"{d[2].isoformat()}: WeChat counted 3 more unfollows than Liucun received: callbacks lost; the "
        f"follower sync of {sync_day} found 3.",
        "1 days of the range are not pulled from WeChat yet.",
    ]
    assert body["meta"]["days"] == {
        d[2].isoformat(): {
            "lost_follows": 1,
            "lost_unfollows": 3,
            "found_follows": 1,
            "unfollows_found_by": [[sync_day, 3]],
        }
    }


def test_lost_unfollows_no_sync_found_yet_say_so(history: tuple[Any, list[date]]) -> None:
    account, d = history
    DailyFollows.objects.filter(account=account, day=d[4]).delete()
    operator = logged_in(member(make_user("op"), account, Role.OPERATOR))
    body = _get(operator, account, start=d[1].isoformat(), end=d[4].isoformat())
    rows = {r["day"]: r for r in body["rows"]}
    assert rows[d[2].isoformat()]["status"] == "lost"
    assert rows[d[2].isoformat()]["explanation"].endswith(
        "WeChat counted 3 more unfollows than Liucun received: callbacks lost; 3 not found by a sync yet."
    )
    assert [rows[day.isoformat()]["cumulate_difference"] for day in d[1:5]] == [0, -3, -3, -3]
    assert [rows[day.isoformat()]["status"] for day in d[1:5]] == ["match", "lost", "lost", "lost"]
    assert rows[d[4].isoformat()]["explanation"] == (
        "Followers differ by -3: callbacks lost on earlier days, not yet found by a sync."
    )


def test_a_refusal_is_why_days_are_not_pulled(history: tuple[Any, list[date]]) -> None:
    account, d = history
    PullState.objects.create(
        account=account, status=PullStatus.REFUSED, error_code="wechat.48001", errcode=48001
    )
    operator = logged_in(member(make_user("op"), account, Role.OPERATOR))
    body = _get(operator, account, start=d[5].isoformat(), end=d[5].isoformat())
    assert body["rows"][0]["explanation"] == (
        "Not pulled: WeChat refused: the account lacks the WeChat permission for this (verification or "
        "account type) (errcode 48001)."
    )


def test_by_source_wechat_sources_beside_what_liucun_can_split(history: tuple[Any, list[date]]) -> None:
    account, d = history
    operator = logged_in(member(make_user("op"), account, Role.OPERATOR))
    body = _get(operator, account, start=d[1].isoformat(), end=d[5].isoformat(), view="source")
    keys = (
        "source",
        "wechat_new",
        "liucun_new",
        "new_difference",
        "wechat_unfollows",
        "liucun_unfollows",
        "unfollow_difference",
    )
    assert [tuple(r[k] for k in keys) for r in body["rows"]] == [
        ("0", 4, None, None, 3, None, None),
        ("30", 6, 6, 0, 1, 0, 1),
        ("other", 4, 3, 1, 3, 1, 2),
        ("all", 10, 9, 1, 4, 1, 3),
    ]
    assert body["meta"] == {"pulled_days": 4}
    assert body["rows"][0]["note"] == "Liucun cannot tell this source apart: callbacks name only a QR scene."


def test_the_console_page_and_csv_show_the_report(history: tuple[Any, list[date]]) -> None:
    account, d = history
    operator = logged_in(member(make_user("op"), account, Role.OPERATOR))
    params = {"start": d[0].isoformat(), "end": d[5].isoformat()}
    page = operator.get(reverse("console:report", args=[account.appid, "reconciliation"]), params)
    assert page.status_code == 200
    assert page.content.count(b"<tr>") == 1 + 6
    csv = b"".join(
        operator.get(
            reverse("console:report-csv", args=[account.appid, "reconciliation"]), params
        ).streaming_content
    )
    assert csv.decode().count("\n") == 1 + 6
