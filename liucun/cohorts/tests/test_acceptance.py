"""Issue 13's acceptance for the stays reports, on a wxsim bulk history loaded through the callback's code:
a planted locust channel is flagged and the loyal channel is not; retention per channel matches the file's
own ground truth (every follow and unfollow, read independently of Liucun) within 1 percentage point."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from liucun.analytics.periods import today, week_of
from liucun.cohorts.consumer import StaysConsumer
from liucun.cohorts.tests.support import operator_of, report
from liucun.inbound.history_import import HistoryFile
from liucun.readmodels import runner
from liucun.testing.factories import make_account
from wxsim.population.bulk import generate, write
from wxsim.population.scenario import Scenario

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAYS = 70
SCENARIO = Scenario.from_dict(
    {
        "name": "locust and loyal",
        "new_fans_per_day": 30,
        "channels": [
            {"scene": "loyal", "label": "门店海报", "weight": 3, "daily_hazard": 0.0002, "activity": 0.02},
            {
                "scene": "locust",
                "label": "抽奖",
                "weight": 0.2,
                "daily_hazard": 0.001,
                "activity": 0.02,
                "giveaway": True,
            },
            {"scene": "", "label": "搜索与文章", "weight": 1, "daily_hazard": 0.00017, "activity": 0.02},
        ],
        "campaigns": [{"channel": "locust", "day": 20, "days": 2, "multiplier": 60}],
    }
)


def _periods(history: HistoryFile) -> list[tuple[str, datetime, datetime | None]]:
    """(scene, followed, unfollowed or None) of every follow period in the file."""
    scenes = history.header["channels"]
    open_: dict[int, tuple[str, datetime]] = {}
    periods = []
    for i in range(history.events):
        at = datetime.fromtimestamp(history.time[i], UTC)
        fan, kind = history.fan[i], history.kind[i]
        if kind == 0:
            open_[fan] = (scenes[history.detail[i]], at)
        elif kind == 1:
            scene, followed = open_.pop(fan)
            periods.append((scene, followed, at))
    periods += [(scene, followed, None) for scene, followed in open_.values()]
    return periods


def _truth_cell(periods: list, scene: str, first: date, last: date, weeks: int) -> float | None:
    cohort = [(f, u) for s, f, u in periods if s == scene and first <= f.astimezone(SHANGHAI).date() <= last]
    if not cohort:
        return None
    kept = sum(1 for f, u in cohort if u is None or u - f >= timedelta(days=7 * weeks))
    return kept / len(cohort)


def test_locust_channel_is_flagged_and_retention_matches_the_ground_truth(tmp_path: Path) -> None:
    account = make_account(mode="safe")
    start = int(time.time()) - DAYS * 86400 - 3600
    header, arrays = generate(
        SCENARIO,
        appid=account.appid,
        original_id=account.original_id,
        seed=5,
        fans=2500,
        days=DAYS,
        start=start,
    )
    path = tmp_path / "history.bin"
    write(path, header, arrays)
    call_command("import_history", str(path))
    runner.run(StaysConsumer())
    history = HistoryFile(path)
    periods = _periods(history)
    history.close()
    client = operator_of(account)
    first_day = datetime.fromtimestamp(start, SHANGHAI).date()

    quality = report(client, account, "channel-quality", start=first_day, end=today())
    rows = {r["channel"]: r for r in quality["rows"]}
    assert rows["locust"]["locust"] is True
    assert rows["loyal"]["locust"] is False
    assert rows[""]["locust"] is False
    assert quality["meta"]["locust_channels"] == ["locust"]
    assert any(f.startswith("locust is a locust channel") for f in quality["findings"])
    assert rows["locust"]["fans"] == sum(1 for s, *_ in periods if s == "locust")

    monday = week_of(first_day)
    compared = 0
    for scene in ("loyal", "locust", ""):
        grid = report(
            client, account, "retention", start=monday, end=today(), granularity="week", channel=scene or "~"
        )
        for row in grid["rows"]:
            first = max(date.fromisoformat(row["cohort"]), first_day)
            last = min(date.fromisoformat(row["cohort"]) + timedelta(days=6), today())
            for k in range(13):
                shown = row[f"age_{k}"]
                if shown is None:
                    continue
                truth = _truth_cell(periods, scene, first, last, k)
                assert truth is not None
                assert abs(shown - truth) <= 0.01, (scene, row["cohort"], k, shown, truth)
                compared += 1
    assert compared >= 3 * 40
