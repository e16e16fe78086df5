"""Named write operations on fans."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from liucun.fans.models import Fan


@transaction.atomic
def apply_profile(account_id: int, openid: str, info: dict[str, Any]) -> Fan | None:
    """Store what user/info says about a fan. Follow state stays with the event store's history."""
    fan = Fan.objects.select_for_update().filter(account_id=account_id, openid=openid).first()
    if fan is None:
        return None
    changed = []
    unionid = info.get("unionid") or ""
    if unionid and unionid != fan.unionid:
        fan.unionid = unionid
        changed.append("unionid")
    scene = info.get("subscribe_scene") or ""
    if scene and scene != fan.subscribe_scene:
        fan.subscribe_scene = scene
        changed.append("subscribe_scene")
    if changed:
        fan.save(update_fields=[*changed, "updated_at"])
    return fan
