"""The pure fan lifecycle rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from liucun.fans.lifecycle import FanState, apply_event, is_fan_action

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
