"""python -m bench.activity: the activity reports over a year at 1,000,000 fans, built from synthetic rollups.

Loads N fans (bench.fanlist's loader: the following count reads the fans table) and a year of the rows the
reports read, at the sizes a 1M-fan account makes: interactions per day and kind, active fans per period,
following changes per day and channel, menu clicks per day and button with one row per clicking fan and
day (--clickers a day), and customer-service measures (--questions a day). Then times each report's
build for a one-year range (the console page, the CSV and the API all call it) and prints p50/p95/max.
SQLite unless DATABASE_URL is set (scripts/with-postgres for PostgreSQL). Target: p95 at most 200 ms.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta


def _args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.activity", description=__doc__)
    parser.add_argument("--fans", type=int, default=1_000_000)
    parser.add_argument("--clickers", type=int, default=10_000, help="fans tapping the menu a day")
    parser.add_argument("--questions", type=int, default=300, help="questions answered a day")
    parser.add_argument("--quick", action="store_true", help="100,000 fans and 1,000 clickers a day")
    parser.add_argument("--repeat", type=int, default=20)
    return parser.parse_args()


def _setup_django() -> str:
    if not os.environ.get("DATABASE_URL"):
        os.environ["LIUCUN_DATA_DIR"] = tempfile.mkdtemp(prefix="liucun-bench-activity-")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "liucun.settings")
    os.environ.setdefault("LIUCUN_LOG_LEVEL", "WARNING")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    from django.db import connection

    return f"{connection.vendor} {connection.settings_dict['NAME']}"


def _load_rollups(account_id: int, days: list[date], clickers: int, questions: int, fans: int) -> None:
    from django.db import connection, transaction

    from liucun.activity.definitions import ACTIVE_KINDS, PERIODS
    from liucun.analytics.periods import day_start
    from liucun.menus.clicks import derive_shares
    from liucun.rawsql import Sql

    rng = random.Random(7)
    sql = Sql(connection)

    def d(day: date) -> object:
        return day if sql.postgres else day.isoformat()

    buttons = [f"KEY_{i}" for i in range(10)] + [f"https://shop.example.test/p{i}" for i in range(5)]
    with transaction.atomic():
        cursor = sql.cursor()
        sql.executemany(
            cursor,
            "INSERT INTO activity_activitykindday (account_id, day, kind, events, fans, channel) "
            "VALUES (%s, %s, %s, %s, %s, '')",
            [
                [account_id, d(day), kind, rng.randint(100, 5000), rng.randint(50, 2000)]
                for day in days
                for kind in ACTIVE_KINDS
            ],
        )
        periods = sorted({(g, PERIODS[g][0](day)) for day in days for g in PERIODS})
        sql.executemany(
            cursor,
            'INSERT INTO activity_activityperiod (account_id, granularity, start, active, new, "returning", '
            "resurrecting, dormant, channel) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, '')",
            [[account_id, g, d(start), 30000, 3000, 20000, 7000, 9000] for g, start in periods],
        )
        sql.executemany(
            cursor,
            "INSERT INTO analytics_followingchange (account_id, day, channel, gained, lost) "
            "VALUES (%s, %s, %s, %s, %s)",
            [
                [account_id, d(day), f"store_{c:03d}", rng.randint(0, 300), rng.randint(0, 200)]
                for day in days
                for c in range(30)
            ],
        )
        # Clicking fans spread over 30 QR channels and "" (fans without one).
        channels = [""] + [f"store_{c:03d}" for c in range(30)]
        sql.executemany(
            cursor,
            "INSERT INTO menus_menuclickday (account_id, day, button, channel, clicks, fans) "
            "VALUES (%s, %s, %s, %s, %s, %s)",
            [
                [account_id, d(day), b, c, clickers // 5 // len(channels), clickers // 8 // len(channels)]
                for day in days
                for b in buttons
                for c in channels
            ],
        )
        for day in days:
            rows = []
            for openid_n in rng.sample(range(fans), clickers):
                rows.append(
                    [
                        account_id,
                        d(day),
                        buttons[openid_n % len(buttons)],
                        f"oBench{openid_n:07d}",
                        channels[openid_n % len(channels)],
                    ]
                )
            sql.executemany(
                cursor,
                "INSERT INTO menus_menuclickfan (account_id, day, button, openid, channel)"
                " VALUES (%s, %s, %s, %s, %s)",
                rows,
            )
        cursor.close()
        derived = time.perf_counter()
        # The gap rows the menu reports sum, and every channel's rows (the click consumer keeps them).
        derive_shares(account_id)
        print(f"  menu click gap and all-channel rows derived in {time.perf_counter() - derived:.1f} s")
        cursor = sql.cursor()
        measures = []
        for day in days:
            start = day_start(day)
            for q in range(questions):
                asked = start + timedelta(seconds=rng.randint(0, 86399))
                wait = rng.expovariate(1 / 1800)
                measures.append(
                    ["first_response", sql.dt(asked), sql.dt(asked + timedelta(seconds=wait)), wait, wait]
                )
                if q % 2:
                    measures.append(
                        ["resolution", sql.dt(asked), sql.dt(asked + timedelta(hours=3)), 10800.0, 9000.0]
                    )
        sql.executemany(
            cursor,
            "INSERT INTO inbox_measure "
            "(account_id, kind, started_at, ended_at, wall_seconds, service_seconds) "
            f"VALUES ({account_id}, %s, %s, %s, %s, %s)",
            measures,
        )
    with connection.cursor() as c:
        c.execute("ANALYZE")


def _ms(samples: list[float]) -> tuple[float, float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered) * 1000, p95 * 1000, ordered[-1] * 1000


def main() -> None:
    args = _args()
    fans = 100_000 if args.quick else args.fans
    clickers = 1_000 if args.quick else args.clickers
    database = _setup_django()
    from bench.fanlist.load import load_fans
    from liucun.analytics import running
    from liucun.analytics.periods import today
    from liucun.analytics.report import spec_named

    print(
        f"bench.activity: {fans:,} fans, {clickers:,} clickers and {args.questions} questions a day, "
        f"{database}, "
        f"Python {sys.version.split()[0]}"
    )
    started = time.perf_counter()
    world = load_fans(fans)
    end = today()
    days = [end - timedelta(days=i) for i in range(364, -1, -1)]
    _load_rollups(world.account.pk, days, clickers, args.questions, fans)
    print(f"  loaded in {time.perf_counter() - started:.1f} s (not counted)")
    params = {"start": days[0].isoformat(), "end": end.isoformat()}
    worst = 0.0
    # Unique tapping fans over a range are summed from the rows of the range's days, or of the days after
    # it, whichever are fewer (menus.queries.range_fans): the first half-year, as many days as follow it,
    # reads half the table either way, their worst case.
    mid_year = {"start": days[0].isoformat(), "end": days[182].isoformat()}
    for name, granularity, span in [
        ("interactions", "day", params),
        ("interactions", "week", params),
        ("interactions", "month", params),
        ("lifecycle", "week", params),
        ("lifecycle", "day", params),
        ("menu-clicks", "day", params),
        ("menu-clicks", "half", mid_year),
        ("h5-visits", "day", params),
        ("h5-visits", "half", mid_year),
        ("menu-clicks", "day", {**params, "channel": "store_007"}),
        ("menu-clicks", "half", {**mid_year, "channel": "store_007"}),
        ("h5-visits", "day", {**params, "channel": "store_007"}),
        ("service", "day", params),
        ("service", "week", params),
    ]:
        spec = spec_named(name)
        assert spec is not None
        samples = []
        query = {**span, "granularity": "day" if granularity == "half" else granularity}
        for _ in range(args.repeat + 1):
            t = time.perf_counter()
            _query, report = running.run(spec, world.account, query)
            samples.append(time.perf_counter() - t)
        p50, p95, top = _ms(samples[1:])  # the first run warms the caches
        worst = max(worst, p95)
        print(
            f"  {name:13} {granularity:6} {span.get('channel', 'all'):9} rows {len(report.rows):4}  "
            f"p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  max {top:7.1f} ms"
        )
    print(f"  worst p95 {worst:.1f} ms (target 200 ms): {'met' if worst <= 200 else 'NOT met'}")


if __name__ == "__main__":
    main()
