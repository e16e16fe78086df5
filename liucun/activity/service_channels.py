"""Which conversations belong to a channel's fans: what the service report of one channel counts.

A fan's channel is its acquisition channel as every analytics report reckons it, here read from the
fan-activity read model (ActivityFanCursor.channel: the QR scene of the fan's first follow event; "" when
that follow had none, and for a fan without a cursor: no follow event stored). A measure without a
conversation has no fan: it counts under "" too, so the channels add up to the whole account.

Looking up every conversation's fan in the cursors on each view costs 0.1-0.45 s for a year of a busy
inbox (120,000 conversations among 1,000,000 fans; bench/service). So the inbox keeps a MeasureChannel row
per conversation with a measure (Measure.save adds it, channel NULL), the worker fills in the channels
(`sync`, every minute), and a report reads its channel's rows from an index and corrects them for what
they cannot know yet:
  - rows not looked up yet (NULL: a conversation's first measure came after the last sync);
  - fans whose channel changed since the rows' `upto`: the read model changes a fan's channel only when it
    handles a follow event (the fan's first, or one earlier than the first known), so the fans of the
    follow events between `upto` and its watermark are looked up again.
So the report is exact at every view: the sync only keeps the corrections short. Without rows in step with
the read model as it is now (never synced, the read model rebuilt since, or more than CORRECTION_LIMIT
event ids to look through), every conversation is looked up instead: exact, and slower.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce

from liucun.accounts.models import OfficialAccount
from liucun.activity.consumer import ActivityConsumer
from liucun.activity.models import ActivityFanCursor
from liucun.events.kinds import FOLLOW
from liucun.inbox.measure_days import NO_CONVERSATION
from liucun.inbox.models import MeasureChannel, MeasureChannelSync
from liucun.readmodels.freshness import REBUILDING
from liucun.readmodels.models import ConsumerState
from liucun.sqlite_writelock import serialized_writes

if TYPE_CHECKING:
    import numpy as np

READ_MODEL = ActivityConsumer.name
# Event ids a view looks through for changed fans (one primary-key range, filtered): a minute of a busy
# site is a few thousand; beyond this, looking up every conversation costs less.
CORRECTION_LIMIT = 200_000
CHUNK = 500  # ids per IN (...): far below SQLite's variable limit
SYNC_CHUNK = 20_000  # rows per write transaction of a full sync (short SQLite write locks)


@dataclass(frozen=True)
class ReadModelAt:
    key: str  # the fingerprint and last rebuild: another key means the cursors were made again
    upto: int  # the watermark: every event id up to it is reflected in the cursors


def read_model_at() -> ReadModelAt | None:
    """Where the fan-activity read model is; None while it is being rebuilt (its cursors incomplete)."""
    row = (
        ConsumerState.objects.filter(name=READ_MODEL)
        .values_list("fingerprint", "rebuilt_at", "last_event_id")
        .first()
    )
    if row is None:
        return ReadModelAt("never run", 0)
    fingerprint, rebuilt_at, upto = row
    if fingerprint.startswith(REBUILDING):
        return None
    return ReadModelAt(f"{fingerprint} rebuilt {rebuilt_at.isoformat() if rebuilt_at else 'never'}", upto)


def channel_now() -> Coalesce:
    """The channel of a Conversation queryset's fan, as an annotation: its cursor's, else ""."""
    cursor = ActivityFanCursor.objects.filter(account_id=OuterRef("account_id"), openid=OuterRef("openid"))
    return Coalesce(Subquery(cursor.values("channel")[:1]), Value(""))


def _rows_upto(account_id: int, at: ReadModelAt | None) -> int | None:
    """The event id the account's rows hold the channels of, when they can be brought to `at` by looking
    up the fans followed since; None when they cannot."""
    synced = (
        MeasureChannelSync.objects.filter(account_id=account_id).values_list("read_model", "upto").first()
    )
    if at is None or synced is None or synced[0] != at.key:
        return None
    upto = synced[1]
    return upto if 0 <= at.upto - upto <= CORRECTION_LIMIT else None


def conversations_in(account_id: int, channel: str) -> np.ndarray:
    """The sorted ids of the account's conversations whose fan is in `channel` (with NO_CONVERSATION for
    channel "": measures without a conversation): every one that has a measure, maybe others."""
    import numpy as np  # only when a report is built

    at = read_model_at()
    upto = _rows_upto(account_id, at)
    if at is None or upto is None:
        ids = np.array(_all_looked_up(account_id, channel), dtype=np.int64)
    else:
        ids = np.sort(_listed(account_id, channel))
        again = _looked_up_again(account_id, upto, at.upto)
        if again:
            # Out with every conversation looked up again, in with those now in the channel (sorts of
            # the channel's ids, not np.union1d's hashing: a third of the time).
            ids = ids[~np.isin(ids, np.fromiter(again, dtype=np.int64))]
            moved_in = np.fromiter((c for c, now_in in again.items() if now_in == channel), dtype=np.int64)
            ids = np.sort(np.concatenate([ids, moved_in]))
    if channel == "":
        ids = np.concatenate([np.array([NO_CONVERSATION], dtype=np.int64), ids])  # ids start at 1
    return ids


def _listed(account_id: int, channel: str) -> np.ndarray:
    """The conversations the rows put in the channel, in no particular order."""
    import numpy as np

    if connection.vendor == "postgresql":
        aggregate = "string_agg(CAST(conversation_id AS text), ',')"
    else:
        aggregate = "group_concat(conversation_id)"
    with connection.cursor() as cursor:
        # One text of ids instead of a row per conversation: 50,000 rows' Python objects cost 20-40 ms, the
        # text 1 ms to parse (a view of the biggest channel of bench/service).
        cursor.execute(
            f"SELECT {aggregate} FROM inbox_measurechannel "  # noqa: S608 - fixed text only
            "WHERE account_id = %s AND channel = %s",
            [account_id, channel],
        )
        (text,) = cursor.fetchone()
    return np.fromstring(text or "", dtype=np.int64, sep=",")


def _all_looked_up(account_id: int, channel: str) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.id FROM inbox_conversation c LEFT JOIN activity_activityfancursor f "
            "ON f.account_id = c.account_id AND f.openid = c.openid "
            "WHERE c.account_id = %s AND COALESCE(f.channel, '') = %s ORDER BY c.id",
            [account_id, channel],
        )
        return [conversation_id for (conversation_id,) in cursor.fetchall()]


def _looked_up_again(account_id: int, after: int, upto: int) -> dict[int, str]:
    """The channel now of the account's conversations whose row cannot be trusted: not looked up yet
    (NULL), or of a fan with a follow event with an id in (after, upto]. One statement."""
    with connection.cursor() as cursor:
        # "+account_id": read the event ids by primary key, never the account's whole history by an index
        # that leads with the account (SQLite's planner would otherwise take one).
        cursor.execute(
            "SELECT c.id, COALESCE(f.channel, '') FROM inbox_conversation c "
            "LEFT JOIN activity_activityfancursor f ON f.account_id = c.account_id AND f.openid = c.openid "
            "WHERE c.id IN (SELECT conversation_id FROM inbox_measurechannel WHERE account_id = %s "
            "AND channel IS NULL UNION SELECT followed.id FROM inbox_conversation followed "
            "WHERE followed.account_id = %s AND followed.openid IN (SELECT openid FROM events_event "
            "WHERE id > %s AND id <= %s AND kind = %s AND +account_id = %s))",
            [account_id, account_id, after, upto, FOLLOW, account_id],
        )
        return dict(cursor.fetchall())


def sync(account_id: int, now: datetime | None = None) -> int:
    """Bring the account's MeasureChannel rows in step with the fan-activity read model; returns how many
    rows were looked up. Nothing while the read model is being rebuilt."""
    at = read_model_at()
    if at is None:
        return 0
    upto = _rows_upto(account_id, at)
    looked_up = _sync_all(account_id) if upto is None else _sync_changed(account_id, upto, at.upto)
    # The rows hold the channels as of `at` or later; recorded only if the read model was not rebuilt
    # meanwhile (else the next sync looks every row up again).
    after = read_model_at()
    if after is not None and after.key == at.key:
        with serialized_writes(), transaction.atomic():
            MeasureChannelSync.objects.update_or_create(
                account_id=account_id,
                defaults={"read_model": at.key, "upto": at.upto, "synced_at": now or datetime.now(UTC)},
            )
    return looked_up


def _sync_changed(account_id: int, after: int, upto: int) -> int:
    again = _looked_up_again(account_id, after, upto)
    _write(again.items())
    return len(again)


def _write(channels: Iterable[tuple[int, str]]) -> None:
    by_channel: dict[str, list[int]] = {}
    for conversation_id, channel in channels:
        by_channel.setdefault(channel, []).append(conversation_id)
    if not by_channel:
        return
    with serialized_writes(), transaction.atomic():
        for channel, ids in sorted(by_channel.items()):
            for start in range(0, len(ids), CHUNK):
                MeasureChannel.objects.filter(conversation_id__in=ids[start : start + CHUNK]).update(
                    channel=channel
                )


def _sync_all(account_id: int) -> int:
    """Every row looked up again, set-based, SYNC_CHUNK rows per write transaction."""
    ids = list(
        MeasureChannel.objects.filter(account_id=account_id)
        .order_by("conversation_id")
        .values_list("conversation_id", flat=True)
    )
    statement = (
        "UPDATE inbox_measurechannel SET channel = COALESCE((SELECT f.channel FROM inbox_conversation c "
        "JOIN activity_activityfancursor f ON f.account_id = c.account_id AND f.openid = c.openid "
        "WHERE c.id = inbox_measurechannel.conversation_id), '') "
        "WHERE account_id = %s AND conversation_id >= %s AND conversation_id <= %s"
    )
    for start in range(0, len(ids), SYNC_CHUNK):
        part = ids[start : start + SYNC_CHUNK]
        with serialized_writes(), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement, [account_id, part[0], part[-1]])
    return len(ids)


def sync_all(now: datetime | None = None) -> dict[int, int]:
    """Every account with conversations that have measures: rows looked up per account."""
    # One index probe per account, not a scan of every row.
    with_rows = OfficialAccount.objects.filter(
        Exists(MeasureChannel.objects.filter(account_id=OuterRef("pk")))
    )
    return {
        account_id: sync(account_id, now)
        for account_id in with_rows.order_by("pk").values_list("pk", flat=True)
    }
