"""Test data for the growth and unfollow-rate reports and the overview."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.core.management import call_command

from liucun.accounts.models import OfficialAccount
from liucun.analytics.models import FollowingChange
from liucun.analytics.periods import site_zone
from liucun.fans.models import Fan
from liucun.readmodels import runner
from wxsim.population.bulk import generate, write
from wxsim.population.scenario import DEMO


def populate(account: OfficialAccount, fans: list[Fan]) -> None:
    """FollowingChange rows for these fans: a gain on the day each followed, a loss on the day each left
    (what the following consumer makes of their follow and unfollow), one row per day and channel."""
    tz = site_zone()
    counts: dict[tuple[Any, str], list[int]] = {}
    for fan in fans:
        if fan.followed_at is not None:
            counts.setdefault((fan.followed_at.astimezone(tz).date(), fan.channel), [0, 0])[0] += 1
        if fan.unfollowed_at is not None and not fan.is_following:
            counts.setdefault((fan.unfollowed_at.astimezone(tz).date(), fan.channel), [0, 0])[1] += 1
    FollowingChange.objects.bulk_create(
        FollowingChange(account=account, day=day, channel=channel, gained=gained, lost=lost)
        for (day, channel), (gained, lost) in counts.items()
    )


def imported_history(
    account: OfficialAccount, folder: Path, *, fans: int = 300, days: int = 45, seed: int = 8
) -> Path:
    """A wxsim bulk history of the demo scenario ending now, stored through the callback's code, and every
    read model caught up."""
    header, arrays = generate(
        DEMO,
        appid=account.appid,
        original_id=account.original_id,
        seed=seed,
        fans=fans,
        days=days,
        start=int(time.time()) - days * 86400,
    )
    path = folder / "history.bin"
    write(path, header, arrays)
    call_command("import_history", str(path))
    runner.run_all()
    return path
