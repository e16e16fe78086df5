"""Channel rows for other apps' tests (the console's query-count pins call populate())."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from liucun.accounts.models import OfficialAccount
from liucun.channels.models import Channel, QrCode, QrKind
from liucun.fans.models import Fan

# A PNG header and nothing more: every code has its image stored, so no page calls WeChat.
PNG = b"\x89PNG\r\n\x1a\n"


def populate(account: OfficialAccount, fans: list[Fan]) -> list[Channel]:
    """A channel for every scene the fans came through (plus one no fan has), each with a temporary and a
    permanent code; one scene seen on fans stays unnamed, so the page's unnamed list has a row too."""
    scenes = sorted({f.channel for f in fans if f.channel})
    named = scenes[:-1] if len(scenes) > 1 else scenes
    now = datetime.now(UTC)
    channels = []
    for i, scene in enumerate([*named, f"printed_{account.pk}"]):
        channel = Channel.objects.create(
            account=account, scene=scene, name=f"渠道{i}", note="", created_by="test"
        )
        QrCode.objects.create(
            channel=channel,
            kind=QrKind.TEMPORARY,
            ticket=f"gQtemp{channel.pk}",
            url=f"http://weixin.qq.com/q/t{channel.pk}",
            expires_at=now + timedelta(days=30),
            image=PNG,
            image_type="image/png",
        )
        QrCode.objects.create(
            channel=channel,
            kind=QrKind.PERMANENT,
            ticket=f"gQperm{channel.pk}",
            url=f"http://weixin.qq.com/q/p{channel.pk}",
            image=PNG,
            image_type="image/png",
        )
        channels.append(channel)
    return channels
