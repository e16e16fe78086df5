"""What the account's channels are called and how many fans each brought; read by the fan list and replies."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q

from liucun.channels.models import Channel
from liucun.fans.models import Fan


def channel_labels(account_id: int) -> dict[str, str]:
    """scene -> name for every named channel of the account (one query)."""
    return dict(Channel.objects.filter(account_id=account_id).values_list("scene", "name"))


@dataclass(frozen=True)
class SceneCount:
    scene: str
    ever: int  # fans whose first known follow came through the scene
    following: int  # of them, those following now


def scene_counts(account_id: int) -> dict[str, SceneCount]:
    """Fans per scene seen on the account's fans, read from the fan_channel_following index alone."""
    rows = (
        Fan.objects.filter(account_id=account_id)
        .exclude(channel="")
        .values("channel")
        .annotate(ever=Count("id"), following=Count("id", filter=Q(is_following=True)))
        .order_by()
    )
    return {r["channel"]: SceneCount(r["channel"], r["ever"], r["following"]) for r in rows}


def channel_choices(account_id: int) -> list[tuple[str, str]]:
    """(scene, "name (scene)" or the scene alone when unnamed) for every named channel and every scene seen
    on fans, most fans first, then by scene; two queries."""
    labels = channel_labels(account_id)
    counts = scene_counts(account_id)
    scenes = sorted(set(labels) | set(counts), key=lambda s: (-(counts[s].ever if s in counts else 0), s))
    return [(s, f"{labels[s]} ({s})" if s in labels else s) for s in scenes]


@dataclass(frozen=True)
class ChannelRow:
    channel: Channel
    ever: int
    following: int
    qrcodes: int


@dataclass(frozen=True)
class ChannelsPage:
    channels: list[ChannelRow]  # by name
    unnamed: list[SceneCount]  # scenes seen on fans without a channel, most fans first, at most `limit`
    unnamed_total: int


def channels_page(account_id: int, limit: int = 100) -> ChannelsPage:
    """The named channels with their fan and code counts, and the scenes still waiting for a name (two
    queries)."""
    channels = list(
        Channel.objects.filter(account_id=account_id).annotate(codes=Count("qrcodes")).order_by("name", "pk")
    )
    counts = scene_counts(account_id)
    rows = []
    for channel in channels:
        seen = counts.pop(channel.scene, None)
        rows.append(
            ChannelRow(
                channel,
                seen.ever if seen else 0,
                seen.following if seen else 0,
                channel.codes,
            )
        )
    unnamed = sorted(counts.values(), key=lambda c: (-c.ever, c.scene))
    return ChannelsPage(rows, unnamed[:limit], len(unnamed))


def fans_of_scene(account_id: int, scene: str) -> SceneCount:
    """One channel's fans: ever and following now (one query on the fan_channel_following index)."""
    row = Fan.objects.filter(account_id=account_id, channel=scene).aggregate(
        ever=Count("id"), following=Count("id", filter=Q(is_following=True))
    )
    return SceneCount(scene, row["ever"], row["following"])
