"""Build time of the stays reports on a year's rollup at 1,000,000 fans (not part of the suite: run by path).

    LIUCUN_DATA_DIR=/tmp/x .venv/bin/pytest -p no:cacheprovider -q -s liucun/cohorts/tests/bench_reports.py
    (and under scripts/with-postgres for PostgreSQL)

The rollup is drawn as the consumer would hold it after a year: a million follow periods over 365 days
and eight channels (one a giveaway channel), stays from a mixture of early churn and a slow settled rate,
periods still open where the stay would reach past today. Each report is built 20 times for the whole
year through the API (the framework's parsing, the build, JSON), and the p50/p95 printed.
"""

from __future__ import annotations

import statistics
import time
from datetime import timedelta

import numpy as np
import pytest
from django.db import connection
from django.urls import reverse

from liucun.analytics.periods import today
from liucun.cohorts.models import BIN_COLUMNS, BIN_STARTS, CohortStays
from liucun.cohorts.tests.support import operator_of
from liucun.testing.factories import make_account

pytestmark = pytest.mark.django_db

FANS, DAYS, RUNS = 1_000_000, 365, 20
CHANNELS = (
    ("", 0.3, 0.001), ("store_1", 0.2, 0.0005), ("store_2", 0.15, 0.0005), ("event", 0.1, 0.001),
    ("ad_1", 0.1, 0.002), ("ad_2", 0.05, 0.002), ("article", 0.05, 0.001), ("giveaway", 0.05, 0.01),
)  # fmt: skip


def _rollup(account_id: int) -> int:
    rng = np.random.default_rng(1)
    last = today()
    rows = []
    per_day = FANS // DAYS
    for age in range(DAYS):
        day = last - timedelta(days=age)
        for scene, weight, hazard in CHANNELS:
            n = int(per_day * weight)
            early = rng.random(n) < (0.35 if scene == "giveaway" else 0.05)
            stays = np.where(early, rng.exponential(1.5, n), rng.exponential(1 / hazard, n)).astype(np.int64)
            ended = stays[stays < age]
            gone = np.bincount(
                np.searchsorted(BIN_STARTS, ended, side="right") - 1, minlength=len(BIN_STARTS)
            )
            row = CohortStays(account_id=account_id, cohort_day=day, channel=scene, fans=n)
            for column, count in zip(BIN_COLUMNS, gone, strict=True):
                setattr(row, column, int(count))
            rows.append(row)
    CohortStays.objects.bulk_create(rows, batch_size=500)
    return len(rows)


def test_every_stays_report_builds_a_year_at_a_million_fans_quickly() -> None:
    account = make_account()
    started = time.perf_counter()
    cells = _rollup(account.pk)
    took = time.perf_counter() - started
    print(f"\n{connection.vendor}: {cells:,} rollup rows for {FANS:,} fans in {took:.1f} s")
    client = operator_of(account)
    params = {"start": (today() - timedelta(days=DAYS - 1)).isoformat(), "end": today().isoformat()}
    for name, extra in (
        ("retention", {"granularity": "week"}),
        ("retention", {"granularity": "day"}),
        ("survival", {}),
        ("channel-quality", {}),
    ):
        url = reverse(f"api:report_{name.replace('-', '_')}", args=[account.appid])
        assert client.get(url, {**params, **extra}).status_code == 200  # imports (lifelines, scipy) once
        times = []
        for _ in range(RUNS):
            t0 = time.perf_counter()
            answer = client.get(url, {**params, **extra})
            times.append((time.perf_counter() - t0) * 1000)
            assert answer.status_code == 200
        times.sort()
        p95 = times[int(0.95 * RUNS) - 1]
        print(f"{name} {extra or ''}: p50 {statistics.median(times):.0f} ms, p95 {p95:.0f} ms")
