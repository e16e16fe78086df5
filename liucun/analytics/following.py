"""The "following" read model: fans who start and stop following, per account, day and channel, and from it
how many fans follow at the end of any day (累积关注人数).

Definition (a function of the set of lifecycle events, never of their arrival order):
  - a fan's follows and unfollows (sync-reconciled ones included) are put in order by WeChat time, then id;
    before the first one the fan's state is unknown;
  - a follow by a fan not following (or unknown) is `gained` on its day under its QR scene ("" for none);
    a follow by a fan already following changes nothing (their period and its channel stay);
  - an unfollow by a following fan is `lost` under the channel of the follow that opened the period; an
    unfollow by an unknown fan is `lost` under "" (they followed before Liucun saw them); an unfollow by a
    fan already gone changes nothing.

Following at the end of day D (`following_lines`):
  - all channels: the fans table's following count now minus the net changes of the days after D. So the
    line ends at exactly the fans table's number, and fans Liucun has no follow event for (found by the
    follower sync: followed before Liucun or a callback was lost) are in it on every day;
  - one QR scene: the net changes of the days up to D (a fan counts under a scene only through a follow
    event with it);
  - "" (no QR scene): all channels minus the scenes, so the channels always add up to the total.
For an account whose whole history came through callbacks, the total is exactly the number of fans whose
last follow or unfollow by the end of D was a follow, plus those whose first known one was an unfollow
and who had not yet left (property test: analytics/tests/test_following_property.py).

The consumer keeps the same shape as daily follows (readmodels/daily_follows.py): a per-fan cursor for
events later than the fan's latest, and the fan's history re-read for a backdated one. A rebuild from zero
does not replay: following_bulk.py computes the same rows and cursors in a few statements
(Consumer.rebuild_bulk), and incremental runs carry on from there.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection

from liucun.analytics import following_bulk, snapshot
from liucun.analytics.models import FollowingChange, FollowingFanCursor
from liucun.events.kinds import FOLLOW, LIFECYCLE_KINDS
from liucun.rawsql import Sql
from liucun.readmodels.consumer import EventRow, StagedBulkConsumer, StagedCopy
from liucun.readmodels.daily_follows import follow_channel
from liucun.readmodels.fanhistory import fan_histories, fans_out_of_order

COLUMNS = ("gained", "lost")
CHUNK = 500

_UPSERT_CURSOR = (
    "INSERT INTO analytics_followingfancursor "
    "(account_id, openid, last_at, last_event_id, following, channel) VALUES (%s, %s, %s, %s, %s, %s) "
    "ON CONFLICT (account_id, openid) DO UPDATE SET "
    "last_at = excluded.last_at, last_event_id = excluded.last_event_id, following = excluded.following, "
    "channel = excluded.channel"
)
_INSERT_DAY = (
    "INSERT INTO analytics_followingchange (account_id, day, channel, gained, lost) "
    "VALUES (%s, %s, %s, %s, %s)"
)
_UPDATE_DAY = "UPDATE analytics_followingchange SET gained = %s, lost = %s WHERE id = %s"

# (account id, day, channel, column) -> count
Counts = Counter[tuple[int, date, str, str]]


@dataclass
class _State:
    following: bool | None  # None: no follow or unfollow seen yet
    channel: str
    last_at: datetime | None = None
    last_event_id: int = 0


def _order(event: EventRow) -> tuple[datetime, int]:
    return event.wechat_time, event.id


def _step(state: _State, event: EventRow, tz: ZoneInfo, counts: Counts) -> None:
    day = event.wechat_time.astimezone(tz).date()
    if event.kind == FOLLOW:
        if state.following is not True:
            state.channel = follow_channel(event.fields.get("EventKey"))
            counts[event.account_id, day, state.channel, "gained"] += 1
        state.following = True
    else:
        if state.following is not False:
            counts[event.account_id, day, state.channel if state.following else "", "lost"] += 1
        state.following, state.channel = False, ""
    state.last_at, state.last_event_id = event.wechat_time, event.id


def contribution(fan_events: Iterable[EventRow], tz: ZoneInfo) -> tuple[Counts, _State]:
    """What one fan's lifecycle events add to the table, and the fan's state after them."""
    counts: Counts = Counter()
    state = _State(None, "")
    for event in sorted(fan_events, key=_order):
        _step(state, event, tz, counts)
    return counts, state


class FollowingConsumer(StagedBulkConsumer):
    name = "following"
    kinds = LIFECYCLE_KINDS
    payload_fields = ("EventKey",)
    version = 1

    def __init__(self, time_zone: str | None = None) -> None:
        self.tz = ZoneInfo(time_zone or settings.TIME_ZONE)

    def fingerprint(self) -> str:
        return f"v{self.version}:{self.tz.key}"

    def reset(self) -> None:
        FollowingChange.objects.all().delete()
        FollowingFanCursor.objects.all().delete()

    def stage_bulk(self, last_id: int) -> None:
        following_bulk.stage(last_id, self.tz)

    def copies(self) -> list[StagedCopy]:
        return following_bulk.copies()

    def drop_bulk(self) -> None:
        following_bulk.drop()

    def prepare(self, events: Sequence[EventRow]) -> _Plan:
        states = self._load_states(events)
        latest = {key: (s.last_at, s.last_event_id) for key, s in states.items() if s.last_at is not None}
        histories = fan_histories(fans_out_of_order(events, latest), LIFECYCLE_KINDS, self.payload_fields)
        counts: Counts = Counter()
        touched: set[tuple[int, str]] = set()
        for event in events:
            key = (event.account_id, event.openid)
            state = states.get(key)
            if state is None or state.last_at is None or _order(event) > (state.last_at, state.last_event_id):
                state = state or _State(None, "")
                _step(state, event, self.tz, counts)
                states[key] = state
            else:
                # Everything with a lower id has been handled, so the fan's rows hold contribution(earlier).
                earlier = [e for e in histories[key] if e.id < event.id]
                before, _ = contribution(earlier, self.tz)
                after, states[key] = contribution([*earlier, event], self.tz)
                counts.subtract(before)
                counts.update(after)
            touched.add(key)
        sql = Sql(connection)
        plan = _day_changes(counts, sql)
        for account_id, openid in touched:
            s = states[account_id, openid]
            plan.cursors.append(
                [account_id, openid, sql.dt(s.last_at), s.last_event_id, bool(s.following), s.channel]
            )
        return plan

    def apply(self, plan: _Plan) -> None:
        sql = Sql(connection)
        cursor = sql.cursor()
        try:
            for statement, rows in (
                (_UPSERT_CURSOR, plan.cursors),
                (_INSERT_DAY, plan.inserts),
                (_UPDATE_DAY, plan.updates),
            ):
                for start in range(0, len(rows), CHUNK):
                    sql.executemany(cursor, statement, rows[start : start + CHUNK])
        finally:
            cursor.close()
        for start in range(0, len(plan.deletes), CHUNK):
            FollowingChange.objects.filter(pk__in=plan.deletes[start : start + CHUNK]).delete()

    @staticmethod
    def _load_states(events: Sequence[EventRow]) -> dict[tuple[int, str], _State]:
        by_account: dict[int, set[str]] = {}
        for event in events:
            by_account.setdefault(event.account_id, set()).add(event.openid)
        states: dict[tuple[int, str], _State] = {}
        for account_id, openids in by_account.items():
            ordered = sorted(openids)
            for start in range(0, len(ordered), CHUNK):
                rows = FollowingFanCursor.objects.filter(
                    account_id=account_id, openid__in=ordered[start : start + CHUNK]
                ).values_list("openid", "last_at", "last_event_id", "following", "channel")
                for openid, last_at, last_event_id, following, channel in rows:
                    states[account_id, openid] = _State(following, channel, last_at, last_event_id)
        return states


@dataclass
class _Plan:
    cursors: list[list[object]] = field(default_factory=list)
    inserts: list[list[object]] = field(default_factory=list)
    updates: list[list[object]] = field(default_factory=list)
    deletes: list[int] = field(default_factory=list)


def _day_changes(counts: Counts, sql: Sql) -> _Plan:
    deltas: dict[tuple[int, date, str], dict[str, int]] = {}
    for (account_id, day, channel, column), n in counts.items():
        if n:
            deltas.setdefault((account_id, day, channel), dict.fromkeys(COLUMNS, 0))[column] += n
    plan = _Plan()
    existing = _existing_rows(deltas)
    for (account_id, day, channel), delta in deltas.items():
        old = existing.get((account_id, day, channel))
        values = [(old[c] if old else 0) + delta[c] for c in COLUMNS]
        if old is None:
            if any(values):
                plan.inserts.append([account_id, day if sql.postgres else day.isoformat(), channel, *values])
        elif any(values):
            plan.updates.append([*values, old["id"]])
        else:
            plan.deletes.append(old["id"])
    return plan


def _existing_rows(keys: Iterable[tuple[int, date, str]]) -> dict[tuple[int, date, str], dict[str, int]]:
    days_by_account: dict[int, set[date]] = {}
    for account_id, day, _channel in keys:
        days_by_account.setdefault(account_id, set()).add(day)
    existing: dict[tuple[int, date, str], dict[str, int]] = {}
    for account_id, days in days_by_account.items():
        ordered = sorted(days)
        for start in range(0, len(ordered), CHUNK):
            rows = FollowingChange.objects.filter(
                account_id=account_id, day__in=ordered[start : start + CHUNK]
            )
            for row in rows.values("id", "day", "channel", *COLUMNS):
                existing[account_id, row["day"], row["channel"]] = row
    return existing


# --- reading -------------------------------------------------------------------------------------------


def following_now(account_id: int) -> int:
    """Fans following now: the fans table's count, through its snapshot (analytics/snapshot.py)."""
    from liucun.analytics.snapshot import net_total

    return snapshot.following_now(account_id, net_total(account_id))


@dataclass(frozen=True)
class FollowingLines:
    """Following at the end of each day, for the whole account and per QR scene (definition above)."""

    now: int
    # Net change (gained - lost) per day, all channels, and per day and scene for scenes other than "".
    net: dict[date, int]
    net_by_scene: dict[str, dict[date, int]]

    def total_at_end(self, day: date) -> int:
        return self.now - sum(n for d, n in self.net.items() if d > day)

    def scene_at_end(self, scene: str, day: date) -> int:
        return sum(n for d, n in self.net_by_scene.get(scene, {}).items() if d <= day)

    def at_end(self, day: date, channel: str | None) -> int:
        if channel is None:
            return self.total_at_end(day)
        if channel:
            return self.scene_at_end(channel, day)
        return self.total_at_end(day) - sum(self.scene_at_end(s, day) for s in self.net_by_scene)

    def series(self, days: list[date], channel: str | None) -> list[int]:
        """Following at the end of each of `days` (ascending), in one pass."""
        if not days:
            return []
        if channel:
            return _running(self.net_by_scene.get(channel, {}), days, 0)
        total = _running(self.net, days, self.now - sum(self.net.values()))
        if channel is None:
            return total
        scenes = [_running(per_day, days, 0) for per_day in self.net_by_scene.values()]
        return [t - sum(s[i] for s in scenes) for i, t in enumerate(total)]

    def by_channel_now(self) -> dict[str, int]:
        """Following now per channel ("" is the remainder); scenes with nobody following are left out."""
        scenes = {s: sum(per_day.values()) for s, per_day in self.net_by_scene.items()}
        result = {s: n for s, n in scenes.items() if n}
        rest = self.now - sum(scenes.values())
        if rest:
            result[""] = rest
        return result


def _running(per_day: dict[date, int], days: list[date], base: int) -> list[int]:
    """base + the sum of per_day up to and including each of `days` (ascending)."""
    ordered = sorted(per_day.items())
    out, acc, i = [], base, 0
    for day in days:
        while i < len(ordered) and ordered[i][0] <= day:
            acc += ordered[i][1]
            i += 1
        out.append(acc)
    return out


def following_lines(account_id: int) -> FollowingLines:
    """Two queries: the fans table's following count and the account's rows (days x channels: small)."""
    net: dict[date, int] = {}
    by_scene: dict[str, dict[date, int]] = {}
    rows = FollowingChange.objects.filter(account_id=account_id).values_list(
        "day", "channel", "gained", "lost"
    )
    for day, channel, gained, lost in rows:
        net[day] = net.get(day, 0) + gained - lost
        if channel:
            scene = by_scene.setdefault(channel, {})
            scene[day] = scene.get(day, 0) + gained - lost
    return FollowingLines(snapshot.following_now(account_id, sum(net.values())), net, by_scene)


def day_before(day: date) -> date:
    return day - timedelta(days=1)
