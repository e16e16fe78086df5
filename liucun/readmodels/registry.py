"""Every consumer the worker runs. Read models of other apps (analytics, the inbox, push routing) go here."""

from __future__ import annotations

from liucun.readmodels.consumer import Consumer


class UnknownConsumer(LookupError):
    pass


def consumers() -> list[Consumer]:
    from liucun.activity.consumer import ActivityConsumer
    from liucun.analytics.following import FollowingConsumer
    from liucun.cohorts.consumer import StaysConsumer
    from liucun.inbox.consumer import ConversationsConsumer
    from liucun.menus.clicks import MenuClicksConsumer
    from liucun.pushimpact.consumer import HourlyFlowsConsumer
    from liucun.readmodels.daily_follows import DailyFollowsConsumer

    return [
        DailyFollowsConsumer(),
        MenuClicksConsumer(),
        ConversationsConsumer(),
        HourlyFlowsConsumer(),
        ActivityConsumer(),
        StaysConsumer(),
        FollowingConsumer(),
    ]


def consumer_named(name: str) -> Consumer:
    for consumer in consumers():
        if consumer.name == name:
            return consumer
    known = ", ".join(c.name for c in consumers())
    raise UnknownConsumer(f"no read model named {name!r} (known: {known})")
