"""The demo account's channels: the QR scenes of wxsim's demo scenario, named as the shop would name them."""

from __future__ import annotations

from liucun.accounts.models import OfficialAccount
from liucun.channels.actions import create_channel
from liucun.channels.models import Channel

# wxsim/population/scenario.py DEMO's scenes (a test keeps the two in step); the fourth, "", is search and
# articles, which carry no scene.
DEMO_CHANNELS = {
    "store_001": ("门店海报", "收银台旁的海报"),
    "event_autumn": ("线下活动", "秋季市集的展位"),
    "giveaway_01": ("抽奖活动", "关注抽奖，来得快走得也快"),
}


def seed_demo(account: OfficialAccount) -> None:
    """Name the demo's scenes that have no channel yet: safe on every start, and a channel an operator renamed
    keeps its new name (one deleted comes back on the next start)."""
    named = set(Channel.objects.filter(account=account).values_list("scene", flat=True))
    taken = set(Channel.objects.filter(account=account).values_list("name", flat=True))
    for scene, (name, note) in DEMO_CHANNELS.items():
        if scene not in named and name not in taken:
            create_channel("system", account, scene, name, note)
