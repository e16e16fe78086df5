"""What every stays report says about how its numbers are made and what they leave out."""

from __future__ import annotations

from django.utils.translation import gettext as _


def common_notes() -> list[str]:
    return [
        _(
            "Fans are counted by follow period: a fan who unfollowed and came back starts a new period, "
            "on the day and through the channel of the new follow. Days are China days (the site's time "
            "zone)."
        ),
        _(
            "Left out: fans whose follow Liucun never received (found by the follower sync, or following "
            "before Liucun): their follow time is unknown, so they belong to no cohort. An unfollow found by "
            "the sync ends a period at the time of the sync, the only time known, so such a stay is counted "
            "too long."
        ),
        _(
            "Read from the stays rollup that the worker keeps off the event store (every 10 seconds); "
            "history imported later corrects the past cohorts."
        ),
    ]
