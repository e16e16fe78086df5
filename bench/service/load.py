"""The benchmark's data: a year of a busy customer-service inbox, written in bulk.

Each account gets conversations (one per fan who ever asked), agents, and for every China day of the year
`questions` first-response Measures and `resolutions` resolution Measures, shaped as an inbox makes them:
questions arrive round the clock with a day-time peak, agents answer within service hours (09:00-21:00,
10:00-18:00 at weekends, China time) after a skewed wait (log-normal: most within minutes, a long tail
into the next day), so `service_seconds` counts only open hours and differs from `wall_seconds` for a
question asked at night. Resolutions end hours after their cycle opened. The questions asked in the last
hours that nobody has answered yet, and a few old ones nobody ever answered, are conversations still
waiting. Rows go in with executemany, not through the inbox's actions one by one (a year is ~500,000
measures an account); the report reads only what is stored, so what the actions would compute is
reproduced here.

Each fan also has the fan-activity read model's cursor row (activity.ActivityFanCursor) carrying its
acquisition channel, which the report filters by when a channel is chosen: `fans` cursors an account
(the fans who asked are the first 120,000 of them), channels drawn with the weights of CHANNEL_WEIGHTS
("" is the fans who came without a QR code: search, articles, other scenes), and 1 in 50 of the fans who
asked without a cursor (no follow and no interaction stored: an agent opened the conversation), so they
count under no channel too.
"""

from __future__ import annotations

import itertools
import math
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

# Questions per China hour of the day (relative): quiet at night, peaks late morning, afternoon, evening.
HOURLY_WEIGHTS = [2, 1, 1, 1, 1, 2, 4, 8, 14, 20, 24, 22, 16, 18, 22, 22, 20, 16, 14, 16, 18, 16, 10, 5]
CONVERSATIONS = 120_000  # fans who asked at least once in the year, per account
AGENTS = 8
# Acquisition channels and their shares of the fans: one big channel without a QR code, a few busy QR
# codes, and a tail of small ones, as a shop with posters and giveaways has them.
CHANNEL_WEIGHTS = {
    "": 40,
    "store_1": 20,
    "giveaway": 15,
    "poster": 10,
    "friend": 5,
    **{f"qr_{i:02d}": 1 for i in range(10)},
}


@dataclass
class Loaded:
    account: Any  # OfficialAccount
    first_responses: int
    resolutions: int
    waiting: int


def _hours(day: date) -> tuple[int, int]:
    return (10, 18) if day.weekday() >= 5 else (9, 21)


class ServiceHours:
    """The synthetic service hours, in UTC instants: open intervals of each China day."""

    def __init__(self, zone: Any) -> None:
        self.zone = zone

    def interval(self, day: date) -> tuple[datetime, datetime]:
        opens, closes = _hours(day)
        start = datetime(day.year, day.month, day.day, tzinfo=self.zone)
        return start + timedelta(hours=opens), start + timedelta(hours=closes)

    def advance(self, at: datetime, service_seconds: float) -> datetime:
        """The instant `service_seconds` of open time after `at`."""
        left = service_seconds
        day = at.astimezone(self.zone).date()
        while True:
            opens, closes = self.interval(day)
            begin = max(at, opens)
            if begin < closes:
                room = (closes - begin).total_seconds()
                if left <= room:
                    return begin + timedelta(seconds=left)
                left -= room
            day += timedelta(days=1)

    def open_seconds(self, start: datetime, end: datetime) -> float:
        total = 0.0
        day = start.astimezone(self.zone).date()
        while True:
            opens, closes = self.interval(day)
            if opens >= end:
                return total
            overlap = (min(closes, end) - max(opens, start)).total_seconds()
            total += max(overlap, 0.0)
            day += timedelta(days=1)


_CUMULATIVE = list(itertools.accumulate(HOURLY_WEIGHTS))


def _asked_at(rng: random.Random, day: date, zone: Any) -> datetime:
    hour = rng.choices(range(24), cum_weights=_CUMULATIVE)[0]
    start = datetime(day.year, day.month, day.day, hour, tzinfo=zone)
    return (start + timedelta(seconds=rng.random() * 3600)).astimezone(UTC)


def openid(seed: int, fan: int) -> str:
    return f"oBenchService{seed:02d}{fan:07d}"


def asked_without_cursor(fan: int) -> bool:
    return fan < CONVERSATIONS and fan % 50 == 49


def load_channels(account_id: int, fans: int, seed: int) -> dict[str, int]:
    """The fan-activity cursors of `fans` fans with their acquisition channels; returns the fans who asked
    per channel (what a channel's report reads)."""
    from django.db import connection, transaction

    from liucun.rawsql import Sql

    rng = random.Random(seed * 7919)
    names = list(CHANNEL_WEIGHTS)
    cumulative = list(itertools.accumulate(CHANNEL_WEIGHTS.values()))
    sql = Sql(connection)
    asked: dict[str, int] = dict.fromkeys(names, 0)
    with transaction.atomic():
        cursor = sql.cursor()
        rows: list[list[Any]] = []
        for fan in range(fans):
            channel = rng.choices(names, cum_weights=cumulative)[0]
            if asked_without_cursor(fan):
                asked[""] += 1
                continue
            if fan < CONVERSATIONS:
                asked[channel] += 1
            rows.append([openid(seed, fan), channel])
            if len(rows) == 50_000 or fan == fans - 1:
                sql.executemany(
                    cursor,
                    "INSERT INTO activity_activityfancursor (account_id, openid, kind_days, channel) "
                    f"VALUES ({account_id}, %s, '{{}}', %s)",
                    rows,
                )
                rows = []
        cursor.close()
    return asked


def load_account(
    name: str, days: list[date], questions: int, resolutions: int, seed: int, now: datetime
) -> Loaded:
    """One account's year: conversations, agents and measures for `days` (China days), none after `now`."""
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    from liucun.analytics.periods import site_zone
    from liucun.inbox.models import InboxSettings, State
    from liucun.rawsql import Sql
    from liucun.staff.models import Membership, Role
    from liucun.testing.factories import make_account

    rng = random.Random(seed)
    zone = site_zone()
    hours = ServiceHours(zone)
    sql = Sql(connection)
    account = make_account(name=name)
    InboxSettings.objects.create(account=account, first_response_minutes=30, promise_hours=24)
    users = get_user_model().objects
    agents = [users.create_user(f"bench-service-{seed}-{i}") for i in range(AGENTS)]
    for agent in agents:
        Membership.objects.create(user=agent, account=account, role=Role.AGENT)
    agent_ids = [a.pk for a in agents]

    measures: list[list[Any]] = []
    # conversation index -> when its still-unanswered question was asked
    waiting: dict[int, datetime] = {}
    first_count = resolved_count = 0
    for day in days:
        for _ in range(questions):
            asked = _asked_at(rng, day, zone)
            if asked >= now:
                continue
            conversation = rng.randrange(CONVERSATIONS)
            # Service minutes to the first reply: median ~6 min, 1 in 10 over an hour.
            wait = rng.lognormvariate(math.log(360), 1.3)
            answered = hours.advance(asked, wait)
            if answered >= now or rng.random() < 0.0002:
                # Not answered by now (or fallen through the cracks): still waiting.
                waiting[conversation] = min(asked, waiting.get(conversation, asked))
                continue
            service = hours.open_seconds(asked, answered)
            measures.append(
                [
                    conversation,
                    "first_response",
                    rng.choice(agent_ids),
                    sql.dt(asked),
                    sql.dt(answered),
                    (answered - asked).total_seconds(),
                    service,
                ]
            )
            first_count += 1
        for _ in range(resolutions):
            opened = _asked_at(rng, day, zone)
            done = opened + timedelta(seconds=rng.lognormvariate(math.log(4 * 3600), 1.0))
            if done >= now:
                continue
            measures.append(
                [
                    rng.randrange(CONVERSATIONS),
                    "resolution",
                    rng.choice(agent_ids),
                    sql.dt(opened),
                    sql.dt(done),
                    (done - opened).total_seconds(),
                    hours.open_seconds(opened, done),
                ]
            )
            resolved_count += 1
    # Written in the order the inbox writes them: by when each interval ended.
    measures.sort(key=lambda m: m[4] if isinstance(m[4], str) else m[4].isoformat())

    last_day = days[-1]
    with transaction.atomic():
        cursor = sql.cursor()
        conversation_rows = []
        for i in range(CONVERSATIONS):
            since = waiting.get(i)
            opened = since or hours.interval(last_day - timedelta(days=i % 365))[0]
            state = State.OPEN if since else (State.RESOLVED if i % 3 else State.WAITING)
            conversation_rows.append(
                [
                    account.pk,
                    openid(seed, i),
                    state,
                    "message",
                    sql.dt(opened),
                    sql.dt(since),
                    sql.dt(since or opened),
                    3,
                    None if state == State.OPEN and i % 4 == 0 else agent_ids[i % AGENTS],
                    2,
                    0 if since else 1,
                    sql.dt(now),
                ]
            )
        sql.executemany(
            cursor,
            "INSERT INTO inbox_conversation (account_id, openid, state, opened_by, opened_at, waiting_since, "
            "last_fan_message_at, messages, assigned_to_id, read_messages, replies, last_event_id, "
            "updated_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, 0, %s)",
            conversation_rows,
        )
        sql.execute(cursor, "SELECT MIN(id) FROM inbox_conversation WHERE account_id = %s", [account.pk])
        (first_id,) = cursor.fetchone()
        # Conversation ids were assigned in insertion order: index i is first_id + i.
        for row in measures:
            row[0] += first_id
        for chunk in range(0, len(measures), 50_000):
            sql.executemany(
                cursor,
                "INSERT INTO inbox_measure (account_id, conversation_id, kind, agent_id, started_at, "
                f"ended_at, wall_seconds, service_seconds) VALUES ({account.pk}, %s, %s, %s, %s, %s, %s, %s)",
                measures[chunk : chunk + 50_000],
            )
        cursor.close()
    return Loaded(account, first_count, resolved_count, len(waiting))
