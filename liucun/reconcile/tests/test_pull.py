"""Pulling WeChat's follower statistics from wxsim over HTTP: what is stored, idempotency, refusals."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.urls import reverse
from django.utils import translation

from liucun.analytics.periods import day_start, site_zone
from liucun.console.tests.conftest import logged_in, make_user, member
from liucun.reconcile import periodic, tasks
from liucun.reconcile.models import PullState, PullStatus, WeChatDay, WeChatSourceDay
from liucun.reconcile.pulling import latest_available, run_pull, spans
from liucun.reconcile.status import pull_status
from liucun.staff.models import AuditEntry, Role
from liucun.testing.factories import make_account, make_account_on_wxsim
from wxsim.control_client import WxsimControl, running_wxsim

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def wxsim_url() -> Iterator[str]:
    with running_wxsim(seed=41) as url:
        yield url


@pytest.fixture
def control(wxsim_url: str) -> WxsimControl:
    return WxsimControl(wxsim_url)


def _noon(day: date) -> datetime:
    return day_start(day) + timedelta(hours=12)


def _today() -> date:
    return datetime.now(UTC).astimezone(site_zone()).date()


def _now() -> datetime:
    """Today at noon China time: yesterday is published, and wxsim (real clock) agrees on the day."""
    return _noon(_today())


def test_the_newest_day_is_yesterday_once_wechat_published_it_at_eight() -> None:
    day = date(2026, 11, 30)
    assert latest_available(day_start(day) + timedelta(hours=7, minutes=59)) == date(2026, 11, 28)
    assert latest_available(day_start(day) + timedelta(hours=8)) == date(2026, 11, 29)
    assert latest_available(datetime.combine(day, time(1, 0), tzinfo=UTC)) == date(2026, 11, 29)


def test_missing_days_are_asked_for_in_spans_of_at_most_seven() -> None:
    d = date(2026, 11, 1)
    days = [d + timedelta(days=i) for i in (0, 1, 2, 3, 4, 5, 6, 7, 8, 10)]
    assert spans(days) == [
        (d, d + timedelta(days=6)),
        (d + timedelta(days=7), d + timedelta(days=8)),
        (d + timedelta(days=10), d + timedelta(days=10)),
    ]


def test_a_pull_stores_each_day_by_source_and_pulling_again_changes_nothing(control: WxsimControl) -> None:
    account = make_account_on_wxsim(control)
    yesterday = _today() - timedelta(days=1)
    three_ago = yesterday - timedelta(days=2)
    control.add_fans(account.appid, count=4, subscribe_time=_noon(three_ago).timestamp(), scene="store_1")
    others = control.add_fans(account.appid, count=2, subscribe_time=_noon(three_ago).timestamp())
    control.act(account.appid, "unfollow", others[0], at=_noon(yesterday).timestamp(), drop_callback=True)

    outcome = run_pull(account.pk, now=_now(), back_days=10)
    assert (outcome.status, outcome.days_pulled) == (PullStatus.IDLE, 10)
    days = {
        d.day: (d.new_user, d.cancel_user, d.cumulate_user) for d in WeChatDay.objects.filter(account=account)
    }
    assert len(days) == 10 and min(days) == yesterday - timedelta(days=9) and max(days) == yesterday
    assert days[three_ago] == (6, 0, 6)
    assert days[yesterday] == (0, 1, 5)
    assert days[three_ago - timedelta(days=1)] == (0, 0, 0)
    sources = sorted(
        WeChatSourceDay.objects.filter(account=account).values_list(
            "day", "user_source", "new_user", "cancel_user"
        )
    )
    assert sources == [(three_ago, 0, 2, 0), (three_ago, 30, 4, 0), (yesterday, 0, 0, 1)]
    state = PullState.objects.get(account=account)
    assert (state.days_wanted, state.days_done, state.last_success_at is not None) == (10, 10, True)

    # Nothing is missing: a second pull makes no call (a scripted refusal would otherwise fail it).
    control.faults(account.appid, script=[{"path": "/datacube/getusersummary", "errcode": -1}])
    assert run_pull(account.pk, now=_now(), back_days=10).days_pulled == 0
    assert PullState.objects.get(account=account).status == PullStatus.IDLE
    control.clear_faults(account.appid)

    # A day pulled again is replaced, not added to.
    WeChatDay.objects.filter(account=account, day=three_ago).delete()
    assert run_pull(account.pk, now=_now(), back_days=10).days_pulled == 1
    again = {
        d.day: (d.new_user, d.cancel_user, d.cumulate_user) for d in WeChatDay.objects.filter(account=account)
    }
    assert again == days
    assert WeChatSourceDay.objects.filter(account=account).count() == 3


def test_an_account_wechat_refuses_statistics_is_refused_once_and_not_retried(
    control: WxsimControl, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Liucun believes the account verified; WeChat (wxsim) does not: 48001.
    account = make_account(api_base_url=control.base_url)
    control.add_account(
        appid=account.appid,
        secret=account.secret,
        token=account.token,
        encoding_aes_key=account.encoding_aes_key,
        original_id=account.original_id,
        account_type=account.account_type,
        verified=False,
        mode=account.encryption_mode,
        callback_url="",
    )
    outcome = run_pull(account.pk, now=_now(), back_days=10)
    assert (outcome.status, outcome.days_pulled) == (PullStatus.REFUSED, 0)
    state = PullState.objects.get(account=account)
    assert (state.error_code, state.errcode, state.claimed_until) == ("wechat.48001", 48001, None)
    with translation.override("en"):
        view = pull_status(account)
    assert view.status == PullStatus.REFUSED
    assert view.problem == (
        "WeChat refused: the account lacks the WeChat permission for this (verification or account type) "
        "(errcode 48001)."
    )
    assert WeChatDay.objects.filter(account=account).count() == 0
    # The periodic run leaves it alone; a run without "pull now" does nothing either.
    queued = _periodic_pulls(monkeypatch)
    assert account.pk not in queued
    assert run_pull(account.pk, now=_now(), back_days=10).status == "busy"
    assert run_pull(account.pk, now=_now(), back_days=10, force=True).status == PullStatus.REFUSED


def _periodic_pulls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    queued: list[int] = []

    class Recorder:
        @staticmethod
        def enqueue(account_id: int, force: bool = False) -> None:
            queued.append(account_id)

    monkeypatch.setattr(tasks, "pull_datacube", Recorder)
    periodic._enqueue_pulls()
    return queued


def test_wechat_busy_is_a_failure_the_next_run_retries(
    control: WxsimControl, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = make_account_on_wxsim(control)
    control.faults(account.appid, script=[{"path": "/datacube/getusercumulate", "errcode": -1}] * 4)
    outcome = run_pull(account.pk, now=_now(), back_days=10)
    assert (outcome.status, outcome.days_pulled) == (PullStatus.FAILED, 0)
    assert PullState.objects.get(account=account).error_code == "wechat.-1"
    assert account.pk in _periodic_pulls(monkeypatch)
    control.clear_faults(account.appid)
    assert run_pull(account.pk, now=_now(), back_days=10).status == PullStatus.IDLE
    assert WeChatDay.objects.filter(account=account).count() == 10


def test_an_unverified_account_is_refused_without_a_call(control: WxsimControl) -> None:
    account = make_account_on_wxsim(control, verified=False)
    control.faults(account.appid, script=[{"path": "/datacube/getusersummary", "errcode": -1}])
    assert run_pull(account.pk, now=_now(), back_days=10).status == PullStatus.REFUSED
    assert PullState.objects.get(account=account).error_code == "reconcile.not_verified"
    operator = logged_in(member(make_user("op"), account, Role.OPERATOR))
    answer = operator.post(reverse("api:reconcile_pull", args=[account.appid]))
    assert answer.status_code == 409
    assert answer.json()["code"] == "reconcile.not_verified"
    assert not AuditEntry.objects.filter(account=account, action="reconcile.pull").exists()


def test_pull_now_from_the_api_and_the_console_queues_a_pull_and_shows_progress(
    control: WxsimControl,
) -> None:
    account = make_account_on_wxsim(control)
    operator = logged_in(member(make_user("op"), account, Role.OPERATOR))
    agent = logged_in(member(make_user("agent"), account, Role.AGENT))
    assert agent.post(reverse("api:reconcile_pull", args=[account.appid])).status_code == 403
    assert agent.post(reverse("console:reconcile-pull", args=[account.appid])).status_code == 403
    assert not PullState.objects.filter(account=account).exists()

    answer = operator.post(reverse("api:reconcile_pull", args=[account.appid]))
    assert answer.status_code == 202, answer.content
    assert answer.json()["status"] == "queued"
    assert AuditEntry.objects.filter(account=account, action="reconcile.pull").count() == 1
    page = operator.post(reverse("console:reconcile-pull", args=[account.appid]))
    assert page.status_code == 302
    assert AuditEntry.objects.filter(account=account, action="reconcile.pull").count() == 2

    run_pull(account.pk, now=_now(), back_days=366, force=True)
    status = operator.get(reverse("api:reconcile_status", args=[account.appid])).json()
    assert (status["status"], status["days_pulled"], status["days_missing"]) == ("idle", 366, 0)
    assert status["last_pulled"] == (_today() - timedelta(days=1)).isoformat()
    shown = operator.get(reverse("console:reconcile", args=[account.appid]))
    assert shown.status_code == 200
    assert b'id="reconcile-days">366<' in shown.content
