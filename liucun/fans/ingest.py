"""Storage side of fan lifecycle rules: load a fan, apply an event, write the fan and its periods back."""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime

from django.db import IntegrityError, transaction

from liucun.fans.lifecycle import FanState, apply_event, is_fan_action
from liucun.fans.models import Fan, FollowPeriod, FollowSource

_STATE_FIELDS = [f.name for f in fields(FanState)]


def record_fan_event(
    account_id: int,
    openid: str,
    kind: str,
    at: datetime,
    *,
    qr_scene: str | None = None,
    source: str = FollowSource.CALLBACK,
) -> Fan | None:
    """Apply one event to the fan it came from, creating the fan on first sight. Call inside a transaction."""
    if not is_fan_action(kind) and kind != "event.scan":
        return None
    fan = _lock_or_create(account_id, openid)
    state = FanState(**{name: getattr(fan, name) for name in _STATE_FIELDS})
    changes = apply_event(state, kind, at, qr_scene)
    for name in _STATE_FIELDS:
        setattr(fan, name, getattr(state, name))
    fan.save(update_fields=[*_STATE_FIELDS, "updated_at"])
    for change in changes:
        if change.action == "open":
            FollowPeriod.objects.create(
                account_id=account_id,
                fan=fan,
                followed_at=change.at,
                channel=change.channel,
                follow_source=source,
            )
        else:
            period = (
                FollowPeriod.objects.filter(fan=fan, unfollowed_at__isnull=True)
                .order_by("-followed_at")
                .first()
            )
            if period is None:
                FollowPeriod.objects.create(
                    account_id=account_id,
                    fan=fan,
                    followed_at=None,
                    unfollowed_at=change.at,
                    unfollow_source=source,
                )
            else:
                period.unfollowed_at = change.at
                period.unfollow_source = source
                period.save(update_fields=["unfollowed_at", "unfollow_source"])
    return fan


def _lock_or_create(account_id: int, openid: str) -> Fan:
    fan = Fan.objects.select_for_update().filter(account_id=account_id, openid=openid).first()
    if fan is not None:
        return fan
    try:
        with transaction.atomic():
            return Fan.objects.create(account_id=account_id, openid=openid)
    except IntegrityError:
        # Another process created the fan between our read and our insert; take its row.
        return Fan.objects.select_for_update().get(account_id=account_id, openid=openid)
