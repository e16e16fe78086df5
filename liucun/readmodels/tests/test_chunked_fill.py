"""Set-based fills on SQLite in chunks (readmodels/chunked_fill.py): the same rows as one transaction, many
short write transactions, and a fill that stops half-way is marked, shown as incomplete and redone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from liucun.events.kinds import FOLLOW, UNFOLLOW
from liucun.readmodels import chunked_fill, freshness, runner
from liucun.readmodels.daily_follows import DailyFollowsConsumer
from liucun.readmodels.lease import NotClaimed
from liucun.readmodels.models import ConsumerState, FollowFanCursor
from liucun.readmodels.tests.support import add_event, table
from liucun.testing.factories import make_account

T0 = datetime(2026, 8, 1, 2, tzinfo=UTC)

pytestmark = pytest.mark.skipif(
    connection.vendor != "sqlite", reason="PostgreSQL fills in one transaction (no global write lock)"
)


def _history() -> None:
    account = make_account()
    for n in range(12):
        openid = f"o{n:02d}"
        add_event(account, openid, FOLLOW, T0 + timedelta(hours=n), f"scene{n % 3}")
        if n % 4 == 0:
            add_event(account, openid, UNFOLLOW, T0 + timedelta(days=1, hours=n))


def _cursors() -> list[tuple]:
    return sorted(FollowFanCursor.objects.values_list("account_id", "openid", "last_event_id", "channel"))


@pytest.fixture
def tiny_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(chunked_fill, "ONE_TRANSACTION_ROWS", 0)
    monkeypatch.setattr(chunked_fill, "FIRST_CHUNK", 2)
    monkeypatch.setattr(chunked_fill, "MIN_CHUNK", 2)
    monkeypatch.setattr(chunked_fill, "MAX_CHUNK", 3)


@pytest.mark.django_db
def test_a_fill_in_chunks_gives_the_rows_of_a_replay_in_many_short_transactions(tiny_chunks: None) -> None:
    _history()
    replayed = runner.rebuild(DailyFollowsConsumer(), bulk=False)
    expected = (table(), _cursors())

    filled = runner.rebuild(DailyFollowsConsumer())

    assert replayed.bulk is None and filled.bulk is not None
    assert (table(), _cursors()) == expected
    # Emptying and marking, 12 cursor rows and the day rows 2 or 3 at a time, then the watermark.
    assert filled.bulk.chunks >= 2 + 12 // 3
    assert filled.bulk.longest_write_seconds <= filled.bulk.write_seconds
    state = ConsumerState.objects.get(name="daily-follows")
    assert (state.fingerprint, state.last_event_id) == (
        DailyFollowsConsumer().fingerprint(),
        filled.bulk.upto,
    )
    assert freshness.incomplete(["daily-follows"]) == []


@pytest.mark.django_db
def test_a_fill_stopped_half_way_is_marked_shown_incomplete_and_redone(
    tiny_chunks: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    _history()
    runner.rebuild(DailyFollowsConsumer())
    expected = (table(), _cursors())
    copied = chunked_fill._copy_in_chunks

    def stop_after_the_first_copy(numbered, name, owner, writes) -> None:  # type: ignore[no-untyped-def]
        if numbered.copy.table == "readmodels_followfancursor":
            raise KeyboardInterrupt  # the worker stopped
        copied(numbered, name, owner, writes)

    monkeypatch.setattr(chunked_fill, "_copy_in_chunks", stop_after_the_first_copy)
    with pytest.raises(KeyboardInterrupt):
        runner.rebuild(DailyFollowsConsumer())
    monkeypatch.setattr(chunked_fill, "_copy_in_chunks", copied)

    state = ConsumerState.objects.get(name="daily-follows")
    assert state.fingerprint == freshness.rebuilding_marker(DailyFollowsConsumer().fingerprint())
    assert FollowFanCursor.objects.count() == 0  # half-filled: the day rows only
    assert [(f.name, f.rebuilding) for f in freshness.incomplete(["daily-follows", "following"])] == [
        ("daily-follows", True)
    ]

    again = runner.run(DailyFollowsConsumer())

    assert again.rebuilt
    assert (table(), _cursors()) == expected
    assert freshness.incomplete(["daily-follows"]) == []


@pytest.mark.django_db
def test_a_fill_that_lost_its_claim_stops_at_the_next_chunk(
    tiny_chunks: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    _history()
    copied = chunked_fill._copy_in_chunks

    def claim_taken_over(numbered, name, owner, writes) -> None:  # type: ignore[no-untyped-def]
        ConsumerState.objects.filter(name=name).update(owner="another-worker")
        copied(numbered, name, owner, writes)

    monkeypatch.setattr(chunked_fill, "_copy_in_chunks", claim_taken_over)
    with pytest.raises(NotClaimed):
        runner.rebuild(DailyFollowsConsumer())
    assert table() == []


@pytest.mark.django_db
def test_a_small_fill_is_one_transaction_that_readers_see_whole() -> None:
    _history()
    replayed = runner.rebuild(DailyFollowsConsumer(), bulk=False)
    expected = (table(), _cursors())

    filled = runner.rebuild(DailyFollowsConsumer())

    assert replayed.bulk is None and filled.bulk is not None and filled.bulk.chunks == 1
    assert (table(), _cursors()) == expected
    assert ConsumerState.objects.get(name="daily-follows").fingerprint == DailyFollowsConsumer().fingerprint()


@pytest.mark.django_db
def test_one_transaction_is_asked_for_by_the_rebuild_command(tiny_chunks: None) -> None:
    from io import StringIO

    from django.core.management import call_command

    _history()
    runner.run(DailyFollowsConsumer())
    expected = (table(), _cursors())
    out = StringIO()

    call_command("readmodels", "rebuild", "daily-follows", "--one-transaction", stdout=out)

    assert "s of it writing), then" in out.getvalue()  # one transaction: no count of them
    assert (table(), _cursors()) == expected
    assert runner.rebuild(DailyFollowsConsumer(), chunked=False).bulk.chunks == 1  # type: ignore[union-attr]
    chunked = runner.rebuild(DailyFollowsConsumer())
    assert chunked.bulk is not None and chunked.bulk.chunks > 1
    assert (table(), _cursors()) == expected
