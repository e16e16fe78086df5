"""The per-day digest of measures (MeasureDay) equals the measures at every commit: written one by one,
through the actions, rebuilt, and after a changed time zone."""

from __future__ import annotations

import random
import threading
import time
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, transaction

from liucun.accounts.models import OfficialAccount
from liucun.console.tests.conftest import make_user, member
from liucun.fans.models import Fan
from liucun.inbox import actions, measure_days
from liucun.inbox.models import Conversation, Measure, MeasureDay
from liucun.inbox.tests.fixtures import fan_message, fold
from liucun.sqlite_writelock import serialized_writes
from liucun.staff.models import Role
from liucun.testing.factories import make_account

pytestmark = pytest.mark.django_db

# 2026-06-30 00:00 in Shanghai.
MIDNIGHT = datetime(2026, 6, 29, 16, tzinfo=UTC)


def _digest(account: OfficialAccount) -> dict[tuple[str, date], tuple[str, int, list[float], list[float]]]:
    return {
        (row.kind, row.day): (
            row.zone,
            row.count,
            list(measure_days.unpack(row.service)),
            list(measure_days.unpack(row.wall)),
        )
        for row in MeasureDay.objects.filter(account=account)
    }


def _brute_force(
    account: OfficialAccount, zone: str
) -> dict[tuple[str, date], tuple[str, int, list[float], list[float]]]:
    days: dict[tuple[str, date], tuple[list[float], list[float]]] = defaultdict(lambda: ([], []))
    for m in Measure.objects.filter(account=account):
        at = m.started_at if m.kind == Measure.Kind.FIRST_RESPONSE else m.ended_at
        service, wall = days[(m.kind, at.astimezone(ZoneInfo(zone)).date())]
        service.append(m.service_seconds)
        wall.append(m.wall_seconds)
    return {key: (zone, len(s), sorted(s), sorted(w)) for key, (s, w) in days.items()}


def _random_measures(account: OfficialAccount, rng: random.Random, n: int) -> None:
    for _ in range(n):
        kind = rng.choice([Measure.Kind.FIRST_RESPONSE, Measure.Kind.RESOLUTION])
        # Around China midnights (the edges of days), with ties among the values.
        started = MIDNIGHT + timedelta(days=rng.randint(-3, 3), seconds=rng.choice([-1, 0, 1, 3600, -7200]))
        wall = float(rng.choice([60, 600, 3600, rng.uniform(0, 200_000)]))
        Measure.objects.create(
            account=account,
            kind=kind,
            started_at=started,
            ended_at=started + timedelta(seconds=wall),
            wall_seconds=wall,
            service_seconds=wall * rng.choice([1.0, 0.5, 0.0]),
        )


def test_every_measure_saved_is_in_its_day_and_a_rebuild_gives_the_same_rows() -> None:
    rng = random.Random(13)
    accounts = [make_account(), make_account()]
    for account in accounts:
        _random_measures(account, rng, 80)
    for account in accounts:
        kept = _digest(account)
        assert kept == _brute_force(account, "Asia/Shanghai")
        assert measure_days.rebuild(account.pk) == 80
        assert _digest(account) == kept


def test_a_question_at_midnight_counts_on_the_new_day_and_a_resolution_on_its_end() -> None:
    account = make_account()
    for asked in (MIDNIGHT - timedelta(microseconds=1), MIDNIGHT):
        Measure.objects.create(
            account=account, kind=Measure.Kind.FIRST_RESPONSE, started_at=asked,
            ended_at=asked + timedelta(days=2), wall_seconds=172800.0, service_seconds=3600.0,
        )  # fmt: skip
    Measure.objects.create(
        account=account, kind=Measure.Kind.RESOLUTION, started_at=MIDNIGHT - timedelta(days=3),
        ended_at=MIDNIGHT + timedelta(hours=1), wall_seconds=3 * 86400.0 + 3600, service_seconds=7200.0,
    )  # fmt: skip
    assert {key: value[1] for key, value in _digest(account).items()} == {
        (Measure.Kind.FIRST_RESPONSE, date(2026, 6, 29)): 1,
        (Measure.Kind.FIRST_RESPONSE, date(2026, 6, 30)): 1,
        (Measure.Kind.RESOLUTION, date(2026, 6, 30)): 1,
    }


def test_a_reply_and_a_resolution_through_the_actions_land_in_their_days() -> None:
    account = make_account()
    li = member(make_user("li"), account, Role.AGENT)
    asked = datetime.now(UTC) - timedelta(minutes=30)
    Fan.objects.create(
        account=account, openid="oAsk", is_following=True, last_message_at=asked, last_interaction_at=asked
    )
    fan_message(account, "oAsk", asked)
    fold()
    conversation = Conversation.objects.get(account=account, openid="oAsk")
    actions.reply(li, conversation, text="您好", key="k1")
    actions.reply(li, conversation, text="还有别的吗？", key="k2")  # not a first response
    actions.resolve(li, Conversation.objects.get(pk=conversation.pk))

    assert _digest(account) == _brute_force(account, "Asia/Shanghai")
    assert sorted((kind, count) for (kind, _), (_, count, _, _) in _digest(account).items()) == [
        (Measure.Kind.FIRST_RESPONSE, 1),
        (Measure.Kind.RESOLUTION, 1),
    ]


def test_a_changed_time_zone_is_never_read_and_the_next_measure_rebuilds_the_account(settings: Any) -> None:
    account, other = make_account(), make_account()
    rng = random.Random(5)
    _random_measures(account, rng, 30)
    _random_measures(other, rng, 10)
    first, last = date(2026, 6, 20), date(2026, 7, 10)
    assert measure_days.days_between(account.pk, Measure.Kind.RESOLUTION, first, last, ("wall",)) is not None

    settings.TIME_ZONE = "UTC"
    assert measure_days.days_between(account.pk, Measure.Kind.RESOLUTION, first, last, ("wall",)) is None
    _random_measures(account, rng, 1)

    assert _digest(account) == _brute_force(account, "UTC")
    assert measure_days.days_between(account.pk, Measure.Kind.RESOLUTION, first, last, ("wall",)) is not None
    # Another account's days are its own: rebuilt by its own next measure.
    assert _digest(other) == _brute_force(other, "Asia/Shanghai")


def test_the_arrays_are_little_endian_float64_and_exact() -> None:
    values = [0.0, 1e-6, 1 / 3, 86400.000001, 1e12]
    packed = measure_days.pack(values)
    assert len(packed) == 8 * len(values)
    assert packed[:16] == bytes(8) + bytes.fromhex("8DEDB5A0F7C6B03E")
    assert list(measure_days.unpack(packed)) == values


@pytest.mark.django_db(transaction=True)
def test_two_measures_of_a_new_day_written_at_once_are_both_kept() -> None:
    """The second writer waits for the first one's new day (PostgreSQL: on its unique key, then takes the
    row; SQLite: on the write lock) and adds to it instead of losing its measure or failing."""
    account = make_account()
    holding = threading.Event()
    failures: list[BaseException] = []

    def write(wall: float, hold: bool) -> None:
        try:
            with serialized_writes(), transaction.atomic():
                Measure.objects.create(
                    account=account, kind=Measure.Kind.RESOLUTION, started_at=MIDNIGHT,
                    ended_at=MIDNIGHT + timedelta(seconds=wall), wall_seconds=wall, service_seconds=wall,
                )  # fmt: skip
                if hold:
                    holding.set()
                    time.sleep(0.5)  # the other writer arrives while this day is not committed yet
        except BaseException as exc:  # reported below, not lost in the thread
            failures.append(exc)
        finally:
            connection.close()

    first = threading.Thread(target=write, args=(60.0, True))
    first.start()
    assert holding.wait(10)
    second = threading.Thread(target=write, args=(120.0, False))
    second.start()
    first.join()
    second.join()

    assert failures == []
    assert _digest(account) == {
        (Measure.Kind.RESOLUTION, date(2026, 6, 30)): ("Asia/Shanghai", 2, [60.0, 120.0], [60.0, 120.0])
    }
