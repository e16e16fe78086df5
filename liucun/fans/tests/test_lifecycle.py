"""The pure fan lifecycle rules."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from liucun.fans.lifecycle import (
    FOLLOW_FOUND,
    UNFOLLOW_RECONCILED,
    FanState,
    PeriodChange,
    apply_event,
    is_fan_action,
)

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def test_follow_opens_a_period_and_records_the_channel() -> None:
    state = FanState()
    changes = apply_event(state, "event.subscribe", T0, "store_7")
    assert state.is_following and state.channel == "store_7"
    assert state.first_followed_at == state.followed_at == T0
    assert [c.action for c in changes] == ["open"]
    assert state.last_event_at == T0


def test_unfollow_then_refollow_keeps_the_first_channel() -> None:
    state = FanState()
    apply_event(state, "event.subscribe", T0, "giveaway")
    apply_event(state, "event.unsubscribe", T0 + timedelta(days=1))
    changes = apply_event(state, "event.subscribe", T0 + timedelta(days=5), "store_1")
    assert state.is_following
    assert state.channel == "giveaway"
    assert (state.follow_count, state.unfollow_count) == (2, 1)
    assert [c.channel for c in changes] == ["store_1"]


def test_a_late_older_unfollow_cannot_undo_a_newer_follow() -> None:
    state = FanState()
    apply_event(state, "event.subscribe", T0 + timedelta(hours=2))
    changes = apply_event(state, "event.unsubscribe", T0)
    assert state.is_following
    assert changes == []
    assert state.unfollow_count == 1


def test_unfollow_is_not_an_interaction_and_messages_open_the_window() -> None:
    state = FanState()
    apply_event(state, "text", T0)
    apply_event(state, "event.unsubscribe", T0 + timedelta(hours=1))
    assert state.last_message_at == T0
    assert state.last_interaction_at == T0


def test_repeated_follow_without_unfollow_opens_one_period() -> None:
    state = FanState()
    apply_event(state, "event.subscribe", T0)
    assert apply_event(state, "event.subscribe", T0 + timedelta(days=2)) == []


def test_job_reports_are_not_fan_actions() -> None:
    assert not is_fan_action("event.masssendjobfinish")
    assert not is_fan_action("event.templatesendjobfinish")
    assert not is_fan_action("event.location")
    assert is_fan_action("text") and is_fan_action("event.click") and is_fan_action("event.unsubscribe")


def _history(*steps: tuple[str, datetime, str | None]) -> FanState:
    state = FanState()
    for kind, at, scene in steps:
        apply_event(state, kind, at, scene)
    return state


def test_a_follow_found_by_sync_is_the_lost_follow_callback_except_the_windows() -> None:
    before = [("event.subscribe", T0, "giveaway"), ("event.unsubscribe", T0 + timedelta(days=1), None)]
    refollow = T0 + timedelta(days=5)
    by_callback = _history(*before, ("event.subscribe", refollow, "store_1"))
    by_sync = _history(*before)
    changes = apply_event(by_sync, FOLLOW_FOUND, refollow, "store_1")

    assert changes == [PeriodChange("open", refollow, "store_1")]
    assert (by_sync.follow_count, by_sync.followed_at, by_sync.follow_state_at) == (2, refollow, refollow)
    # A sync sees a state, not an action: the short window and the last interaction stay where they were.
    assert (by_sync.last_event_at, by_sync.last_interaction_at) == (T0, T0)
    assert (by_callback.last_event_at, by_callback.last_interaction_at) == (refollow, refollow)
    by_sync.last_event_at = by_sync.last_interaction_at = refollow
    assert by_sync == by_callback


def test_a_follow_found_by_sync_of_a_new_fan_is_its_first_follow() -> None:
    state = FanState()
    changes = apply_event(state, FOLLOW_FOUND, T0, "store_7")
    assert state == FanState(
        is_following=True,
        follow_state_at=T0,
        first_followed_at=T0,
        followed_at=T0,
        follow_count=1,
        channel="store_7",
    )
    assert changes == [PeriodChange("open", T0, "store_7")]


def test_a_follow_found_by_sync_of_a_following_fan_changes_nothing() -> None:
    state = _history(("event.subscribe", T0, "giveaway"), ("text", T0 + timedelta(hours=1), None))
    before = dataclasses.replace(state)
    assert apply_event(state, FOLLOW_FOUND, T0 + timedelta(days=3), "store_1") == []
    assert state == before


def test_a_sync_fact_older_than_the_recorded_state_is_stale() -> None:
    # The list was read, then the fan unfollowed (callback), then the page was written.
    state = _history(("event.subscribe", T0, ""), ("event.unsubscribe", T0 + timedelta(hours=2), None))
    before = dataclasses.replace(state)
    assert apply_event(state, FOLLOW_FOUND, T0 + timedelta(hours=1), "") == []
    assert state == before
    # And a follow that arrived during the sync is not undone by a reconciliation dated before it.
    state = _history(("event.subscribe", T0 + timedelta(hours=2), ""))
    before = dataclasses.replace(state)
    assert apply_event(state, UNFOLLOW_RECONCILED, T0 + timedelta(hours=1)) == []
    assert state == before


def test_a_reconciled_unfollow_is_the_lost_unfollow_callback_at_the_time_it_was_found() -> None:
    found = T0 + timedelta(days=9)
    by_callback = _history(("event.subscribe", T0, "giveaway"), ("event.unsubscribe", found, None))
    by_sync = _history(("event.subscribe", T0, "giveaway"))
    assert apply_event(by_sync, UNFOLLOW_RECONCILED, found) == [PeriodChange("close", found)]
    assert by_sync == by_callback
    # Reconciling a fan who is not following changes nothing.
    assert apply_event(by_sync, UNFOLLOW_RECONCILED, found + timedelta(days=1)) == []
    assert by_sync == by_callback


def test_sync_facts_are_not_fan_actions() -> None:
    assert not is_fan_action(FOLLOW_FOUND) and not is_fan_action(UNFOLLOW_RECONCILED)
