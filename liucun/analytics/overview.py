"""The overview's numbers from the read models: a few small queries, whatever the account's size.

累积关注人数 is the fans following now (the fans table, as WeChat's own number); today's and yesterday's
new follows, unfollows and net, the last 30 days and the 30-day unfollow rate come from daily follows, and
following by channel from the following lines (analytics/following.py).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from liucun.accounts.models import OfficialAccount
from liucun.analytics.following import following_lines
from liucun.analytics.growth import average_daily_rate, channel_name, day_flows
from liucun.channels.queries import channel_labels

CHANNELS_SHOWN = 12


def overview_numbers(account: OfficialAccount, today: date, days: int = 30) -> dict[str, Any]:
    first = today - timedelta(days=days - 1)
    flows = day_flows(account, first, today, None)
    lines = following_lines(account.pk)
    day_list = [first + timedelta(days=i) for i in range(days)]

    def day(d: date) -> dict[str, Any]:
        new = sum(flows.new.get(d, {}).values())
        return {"day": d, "new": new, "unfollows": flows.unfollows[d], "net": new - flows.unfollows[d]}

    labels = channel_labels(account.pk)
    by_channel = sorted(lines.by_channel_now().items(), key=lambda item: (-item[1], item[0]))
    series = [day(d) for d in day_list]
    rate = average_daily_rate(lines, day_list, sum(flows.unfollows.values()), None)
    return {
        "following": lines.now,
        "today": series[-1],
        "yesterday": series[-2] if days > 1 else None,
        "rate30": rate,
        "rate30_text": "–" if rate is None else f"{rate * 100:.3f} %",
        "range": {"start": first, "end": today},
        "series": {
            "days": [d.isoformat() for d in day_list],
            "follows": [row["new"] for row in series],
            "unfollows": [row["unfollows"] for row in series],
            "net": [row["net"] for row in series],
        },
        "channels": [
            {"channel": scene, "name": channel_name(scene, labels), "fans": n}
            for scene, n in by_channel[:CHANNELS_SHOWN]
        ],
    }
