"""A year of follows and unfollows for N fans, written straight into the event store (bench only).

Per fan: one follow (a QR channel for most, weighted so a few channels bring most fans), an unfollow for
about 30 %, a refollow for about a third of those (often through another channel), a sync-reconciled
unfollow for about 1 %, and text messages for about half (so the watermark also walks over events the
consumer does not read). The history is cut into slices in time order; the last slice also carries
backdated follows (history imported late), which make the consumer correct days it already counted.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import connection, transaction

from liucun.accounts.models import OfficialAccount
from liucun.rawsql import Sql
from liucun.testing.factories import make_account

CHANNELS = [f"store_{i:03d}" for i in range(24)] + ["poster_a", "poster_b", "event_2026", "", "", ""]
START = datetime(2025, 12, 1, tzinfo=UTC)
YEAR = 365 * 86400
CHUNK = 20_000

_INSERT = (
    "INSERT INTO events_event (account_id, openid, kind, dedupe_key, wechat_time, received_at, source, "
    "payload, reply) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, '')"
)


@dataclass
class History:
    account: OfficialAccount
    slices: list[list[tuple[int, str, str, str]]]  # (unix time, openid, kind, channel)
    events: int
    backdated: int


def make_history(fans: int, slices: int, seed: int = 7) -> History:
    rng = random.Random(seed)
    weights = [1 / (i + 1) for i in range(len(CHANNELS))]
    cumulative = [sum(weights[: i + 1]) for i in range(len(weights))]

    def channel() -> str:
        return rng.choices(CHANNELS, cum_weights=cumulative)[0]

    events: list[tuple[int, str, str, str]] = []
    start = int(START.timestamp())
    for i in range(fans):
        openid = f"o{seed:02d}{i:010d}bench"
        followed = start + rng.randrange(YEAR)
        events.append((followed, openid, "event.subscribe", channel()))
        if rng.random() < 0.5:
            events.append((followed + rng.randrange(3600, 30 * 86400), openid, "text", ""))
        if rng.random() < 0.30:
            left = followed + rng.randrange(60, 120 * 86400)
            events.append((left, openid, "event.unsubscribe", ""))
            if rng.random() < 0.33:
                back = left + rng.randrange(60, 60 * 86400)
                events.append((back, openid, "event.subscribe", channel()))
        elif rng.random() < 0.015:
            events.append(
                (followed + rng.randrange(86400, 200 * 86400), openid, "sync.unfollow_reconciled", "")
            )
    events.sort()
    size = -(-len(events) // slices)
    cut = [events[k : k + size] for k in range(0, len(events), size)]
    # History imported after the fact: earlier follows of fans whose later events are already counted.
    backdated = []
    for i in rng.sample(range(fans), max(1, fans // 100)):
        backdated.append(
            (
                start - rng.randrange(1, 90 * 86400),
                f"o{seed:02d}{i:010d}bench",
                "event.subscribe",
                "old_campaign",
            )
        )
    cut[-1].extend(backdated)
    return History(make_account(name="bench read models"), cut, len(events) + len(backdated), len(backdated))


def insert_slice(history: History, rows: list[tuple[int, str, str, str]], serial_from: int) -> int:
    """Bulk INSERT one slice; returns the next serial for dedupe keys."""
    sql = Sql(connection)
    account = history.account
    serial = serial_from
    with transaction.atomic():
        cursor = sql.cursor()
        batch = []
        for at, openid, kind, channel in rows:
            when = datetime.fromtimestamp(at, tz=UTC)
            payload = {"ToUserName": account.original_id, "FromUserName": openid, "CreateTime": str(at)}
            if kind == "text":
                payload |= {"MsgType": "text", "Content": "你好", "MsgId": str(serial)}
            elif kind.startswith("event."):
                payload |= {"MsgType": "event", "Event": kind.removeprefix("event.")}
                if kind == "event.subscribe":
                    payload["EventKey"] = f"qrscene_{channel}" if channel else ""
            source = "sync" if kind.startswith("sync.") else "callback"
            dt = sql.dt(when)
            batch.append((account.pk, openid, kind, f"b:{serial}", dt, dt, source, sql.json(payload)))
            serial += 1
            if len(batch) == CHUNK:
                sql.executemany(cursor, _INSERT, batch)
                batch.clear()
        if batch:
            sql.executemany(cursor, _INSERT, batch)
    return serial
