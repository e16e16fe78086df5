from __future__ import annotations

from datetime import UTC, datetime

import pytest

from liucun.console.tests.conftest import logged_in, make_user, member
from liucun.servicehours import hours
from liucun.servicehours.actions import save_service_hours
from liucun.servicehours.hours import CHINA, ServiceHoursInvalid, build_schedule
from liucun.servicehours.models import ServiceHours
from liucun.staff.models import AuditEntry, Role
from liucun.testing.factories import make_account

NINE_TO_NINE = [[d, "09:00", "21:00"] for d in range(7)]


def china(*args: int) -> datetime:
    return datetime(*args, tzinfo=CHINA)  # type: ignore[misc]


def test_schedule_open_and_closed_in_china_time() -> None:
    s = build_schedule([[0, "09:00", "12:00"], [0, "13:00", "21:00"]], ["2026-12-14"])
    # 2026-12-07 is a Monday.
    assert s.is_open(china(2026, 12, 7, 9, 0)) is True
    assert s.is_open(china(2026, 12, 7, 12, 30)) is False
    assert s.is_open(china(2026, 12, 7, 20, 59)) is True
    assert s.is_open(china(2026, 12, 7, 21, 0)) is False
    assert s.is_open(datetime(2026, 12, 7, 1, 0, tzinfo=UTC)) is True  # 09:00 in Shanghai
    assert s.is_open(china(2026, 12, 8, 10, 0)) is False  # Tuesday: no hours
    assert s.is_open(china(2026, 12, 14, 10, 0)) is False  # a Monday holiday


def test_open_seconds_between_counts_only_service_time() -> None:
    s = build_schedule([[0, "09:00", "12:00"], [0, "11:00", "13:00"], [1, "09:00", "24:00"]], ["2026-12-14"])
    # Monday 08:00 to Tuesday 10:00: Monday 09-13 (merged overlap) = 4 h, Tuesday 09-10 = 1 h.
    assert s.open_seconds_between(china(2026, 12, 7, 8, 0), china(2026, 12, 8, 10, 0)) == 5 * 3600
    # A week later the Monday is a holiday: only Tuesday's hour counts.
    assert s.open_seconds_between(china(2026, 12, 14, 8, 0), china(2026, 12, 15, 10, 0)) == 3600
    assert s.open_seconds_between(china(2026, 12, 8, 10, 0), china(2026, 12, 7, 8, 0)) == 0


@pytest.mark.parametrize(
    ("weekly", "holidays", "named"),
    [
        ([[7, "09:00", "10:00"]], [], "weekly[1]"),
        ([[0, "09:00", "10:00"], [1, "9am", "10:00"]], [], "weekly[2]"),
        ([[0, "10:00", "09:00"]], [], "weekly[1]"),
        ([[0, "09:00", "24:30"]], [], "weekly[1]"),
        ([], ["2026-12-01", "2026-13-01"], "holidays[2]"),
    ],
)
def test_bad_schedules_are_refused_with_the_entry_named(
    weekly: list[list[object]], holidays: list[str], named: str
) -> None:
    with pytest.raises(ServiceHoursInvalid) as refused:
        build_schedule(weekly, holidays)
    assert named in refused.value.message


@pytest.mark.django_db
def test_unconfigured_account_is_always_open() -> None:
    account = make_account()
    start, end = china(2026, 12, 7, 0, 0), china(2026, 12, 8, 0, 0)
    assert hours.is_open(account.pk, start) is True
    assert hours.open_seconds_between(account.pk, start, end) == 86400


@pytest.mark.django_db(transaction=True)
def test_saved_hours_apply_at_once_and_switching_off_opens_again() -> None:
    account = make_account()
    hours.is_open(account.pk, china(2026, 12, 7, 3, 0))  # cached as "always open"
    save_service_hours("admin", account, enabled=True, weekly=NINE_TO_NINE, holidays=["2026-10-01"])
    assert hours.is_open(account.pk, china(2026, 12, 7, 3, 0)) is False
    day = (china(2026, 12, 7, 0, 0), china(2026, 12, 8, 0, 0))
    assert hours.open_seconds_between(account.pk, *day) == 12 * 3600
    save_service_hours("admin", account, enabled=False, weekly=NINE_TO_NINE, holidays=[])
    assert hours.is_open(account.pk, china(2026, 12, 7, 3, 0)) is True
    assert AuditEntry.objects.filter(account=account, action="servicehours.save").count() == 2


@pytest.mark.django_db
def test_console_page_saves_for_admins_and_refuses_bad_input_without_saving() -> None:
    account = make_account()
    admin = member(make_user("admin"), account, Role.ADMIN)
    operator = member(make_user("operator"), account, Role.OPERATOR)
    url = f"/a/{account.appid}/service-hours/"
    assert logged_in(operator).get(url).status_code == 403
    client = logged_in(admin)
    assert client.get(url).status_code == 200
    days = {f"day{i}": "09:00-12:00, 13:00-21:00" if i < 5 else "" for i in range(7)}
    bad = client.post(url, {"enabled": "on", **days, "day6": "25:00-26:00", "holidays": ""}, follow=True)
    assert "weekly[11]" in bad.content.decode()
    assert not ServiceHours.objects.filter(account=account).exists()
    client.post(url, {"enabled": "on", **days, "holidays": "2026-10-01\n2026-10-02"})
    row = ServiceHours.objects.get(account=account)
    assert row.enabled is True
    assert row.weekly[:2] == [[0, "09:00", "12:00"], [0, "13:00", "21:00"]]
    assert len(row.weekly) == 10
    assert row.holidays == ["2026-10-01", "2026-10-02"]
