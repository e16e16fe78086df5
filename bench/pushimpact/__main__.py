"""python -m bench.pushimpact: the push-impact report over a year, with the hourly rollup of a 1M-fan account.

The report reads only the hourly rollup (pushimpact.HourlyFlows) and the pushes, so what it costs depends
on hours x channels and on the number of pushes, not on the fan count. This loads, into a fresh database
(SQLite unless DATABASE_URL is set; run under scripts/with-postgres for PostgreSQL), the rollup a
1,000,000-fan account produces over 400 days (every hour of every channel has follows and unfollows:
about 1M x 0.08 % unfollows a day spread over 10 channels, 96,000 rows) for the measured account and as
many other accounts beside it, and a push every day at 20:00 (365 in the year, a heavy schedule). Then it
times the report through the real API endpoint (Django's test client, an operator's session), for all
channels and for one channel, a one-year range, 4 and 8 baseline weeks. Reports p50, p95 and max; the
target is p95 at most 200 ms.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from typing import Any


def _args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.pushimpact", description=__doc__)
    parser.add_argument("--channels", type=int, default=10)
    parser.add_argument("--days", type=int, default=400, help="days of hourly rows")
    parser.add_argument("--accounts", type=int, default=3, help="accounts with the same rows")
    parser.add_argument("--repeat", type=int, default=20)
    return parser.parse_args()


def _setup_django() -> str:
    if not os.environ.get("DATABASE_URL"):
        os.environ["LIUCUN_DATA_DIR"] = tempfile.mkdtemp(prefix="liucun-bench-pushimpact-")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "liucun.settings")
    os.environ.setdefault("LIUCUN_LOG_LEVEL", "WARNING")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    from django.db import connection

    return f"{connection.vendor} {connection.settings_dict['NAME']}"


def _load(args: argparse.Namespace) -> tuple[Any, Any]:
    from datetime import UTC, datetime, timedelta

    import numpy as np
    from django.contrib.auth import get_user_model

    from liucun.analytics.periods import site_zone
    from liucun.pushimpact.consumer import hour_of
    from liucun.pushimpact.models import HourlyFlows, HourlyTotals, Push, PushSource
    from liucun.staff.models import Membership, Role
    from liucun.testing.factories import make_account

    end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(days=3)
    start = end - timedelta(days=args.days)
    hours = args.days * 24
    per_hour = 1_000_000 * 0.0008 / 24 / args.channels
    rng = np.random.default_rng(13)
    accounts = [make_account(name=f"推送基准 {i}") for i in range(args.accounts)]
    first = hour_of(start)
    for account in accounts:
        rows = []
        total_follows, total_unfollows = np.zeros(hours, np.int64), np.zeros(hours, np.int64)
        for c in range(args.channels):
            unfollows = rng.poisson(per_hour, hours)
            follows = rng.poisson(per_hour * 1.5, hours)
            follows[0] += 1_000_000 // args.channels
            total_follows += follows
            total_unfollows += unfollows
            rows.extend(
                HourlyFlows(
                    account=account,
                    hour=first + h,
                    channel=f"ch{c}" if c else "",
                    follows=int(follows[h]),
                    unfollows=int(unfollows[h]),
                )
                for h in range(hours)
            )
        HourlyFlows.objects.bulk_create(rows, batch_size=5000)
        HourlyTotals.objects.bulk_create(
            (
                HourlyTotals(
                    account=account,
                    hour=first + h,
                    follows=int(total_follows[h]),
                    unfollows=int(total_unfollows[h]),
                )
                for h in range(hours)
            ),
            batch_size=5000,
        )
        first_push = datetime.combine(start.astimezone(site_zone()).date(), datetime.min.time(), site_zone())
        Push.objects.bulk_create(
            Push(
                account=account,
                at=first_push + timedelta(days=d, hours=20),
                title=f"每日推送 {d}",
                source=PushSource.CSV,
            )
            for d in range(args.days)
        )
    user = get_user_model().objects.create_user("bench-operator")
    Membership.objects.create(user=user, account=accounts[0], role=Role.OPERATOR)
    return accounts[0], user


def main() -> None:
    args = _args()
    where = _setup_django()
    from django.test import Client
    from django.urls import reverse

    from liucun.analytics.periods import today

    began = time.perf_counter()
    account, user = _load(args)
    print(f"{where}: loaded in {time.perf_counter() - began:.1f} s")
    client = Client()
    client.force_login(user)
    url = reverse("api:report_push_impact", args=[account.appid])
    end = today()
    year = {"start": end.replace(year=end.year - 1).isoformat(), "end": end.isoformat()}
    shapes = {
        "year, all channels, 4 weeks": year,
        "year, one channel, 4 weeks": {**year, "channel": "ch3"},
        "year, all channels, 8 weeks": {**year, "weeks": "8"},
    }
    for name, params in shapes.items():
        body = client.get(url, params)
        assert body.status_code == 200, body.content
        rows = len(body.json()["rows"])
        times, cpu = [], []
        for _ in range(args.repeat):
            t0, c0 = time.perf_counter(), time.process_time()
            assert client.get(url, params).status_code == 200
            times.append((time.perf_counter() - t0) * 1000)
            cpu.append((time.process_time() - c0) * 1000)
        times.sort()
        cpu.sort()
        p95 = max(0, round(0.95 * len(times)) - 1)
        # CPU time of this process (Django, and SQLite's work in-process) beside the wall clock: on a
        # shared machine the wall clock also counts waiting for a core.
        print(
            f"{name}: {rows} pushes; wall p50 {statistics.median(times):.0f} ms, p95 {times[p95]:.0f} ms, "
            f"max {times[-1]:.0f} ms; process CPU p50 {statistics.median(cpu):.0f} ms, "
            f"p95 {cpu[p95]:.0f} ms; load average {os.getloadavg()[0]:.1f}"
        )


if __name__ == "__main__":
    main()
