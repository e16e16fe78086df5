"""python -m bench.readmodels: the daily-follows read model over 1,000,000 fans' history.

Writes a year of history (bench/readmodels/history.py) into a fresh database (SQLite unless DATABASE_URL
is set; run under scripts/with-postgres for PostgreSQL) in slices, running the consumer incrementally
after each (the first run stops half-way and resumes, as a restarted worker would), then rebuilds it from
zero and compares every row of the two tables, and checks the totals against counts of the event table.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time


def _args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.readmodels", description=__doc__)
    parser.add_argument("--fans", type=int, default=1_000_000)
    parser.add_argument("--quick", action="store_true", help="50,000 fans, for a smoke run")
    parser.add_argument("--slices", type=int, default=4, help="inserts interleaved with incremental runs")
    parser.add_argument("--batch", type=int, default=5000, help="events per consumer transaction")
    return parser.parse_args()


def _setup_django() -> str:
    if not os.environ.get("DATABASE_URL"):
        os.environ["LIUCUN_DATA_DIR"] = tempfile.mkdtemp(prefix="liucun-bench-readmodels-")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "liucun.settings")
    os.environ.setdefault("LIUCUN_LOG_LEVEL", "WARNING")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    from django.db import connection

    return f"{connection.vendor} {connection.settings_dict['NAME']}"


def _table() -> list[tuple]:
    from liucun.readmodels.models import DailyFollows

    return list(
        DailyFollows.objects.order_by("account_id", "day", "channel").values_list(
            "account_id", "day", "channel", "follows", "refollows", "unfollows", "reconciled_unfollows"
        )
    )


def _cursors() -> list[tuple]:
    from liucun.readmodels.models import FollowFanCursor

    return list(
        FollowFanCursor.objects.order_by("account_id", "openid").values_list(
            "account_id", "openid", "last_at", "last_event_id", "channel"
        )
    )


def main() -> None:
    args = _args()
    fans = 50_000 if args.quick else args.fans
    database = _setup_django()
    from django.db.models import Count, Sum

    from bench.readmodels.history import insert_slice, make_history
    from liucun.events.models import Event
    from liucun.readmodels import runner
    from liucun.readmodels.daily_follows import DailyFollowsConsumer
    from liucun.readmodels.models import DailyFollows, FollowFanCursor

    print(
        f"bench.readmodels: {fans:,} fans, database {database}, Python {sys.version.split()[0]}", flush=True
    )
    t = time.perf_counter()
    history = make_history(fans, args.slices)
    print(
        f"  generated {history.events:,} events ({history.backdated:,} backdated) "
        f"in {time.perf_counter() - t:.1f} s"
    )
    serial = 0
    incremental_seconds = 0.0
    slowest = 0.0
    longest_write = 0.0
    handled = 0
    for k, rows in enumerate(history.slices):
        t = time.perf_counter()
        serial = insert_slice(history, rows, serial)
        inserted = time.perf_counter() - t
        t = time.perf_counter()
        if k == 0:
            # A worker stopped half-way (deploy, crash): the next run resumes from the watermark.
            half = len(rows) // args.batch // 2 or 1
            part = runner.run(DailyFollowsConsumer(), batch=args.batch, max_batches=half)
            handled += part.events
            slowest = max(slowest, part.slowest_batch_seconds)
            longest_write = max(longest_write, part.longest_write_seconds)
        result = runner.run(DailyFollowsConsumer(), batch=args.batch)
        took = time.perf_counter() - t
        incremental_seconds += took
        handled += result.events
        slowest = max(slowest, result.slowest_batch_seconds)
        longest_write = max(longest_write, result.longest_write_seconds)
        print(
            f"  slice {k + 1}: inserted {len(rows):,} events in {inserted:.1f} s; consumed in {took:.1f} s "
            f"(watermark {result.watermark:,})",
            flush=True,
        )
    incremental = _table()
    cursors = FollowFanCursor.objects.count()
    incremental_cursors = _cursors()

    t = time.perf_counter()
    rebuilt = runner.rebuild(DailyFollowsConsumer(), batch=args.batch, bulk=False)
    rebuild_seconds = time.perf_counter() - t
    again = _table()
    replayed_cursors = _cursors()

    t = time.perf_counter()
    filled = runner.rebuild(DailyFollowsConsumer(), batch=args.batch)
    bulk_seconds = time.perf_counter() - t
    assert filled.bulk is not None
    bulk_table, bulk_cursors = _table(), _cursors()

    kinds = dict(Event.objects.values_list("kind").annotate(n=Count("id")).order_by())
    totals = DailyFollows.objects.aggregate(
        f=Sum("follows"), r=Sum("refollows"), u=Sum("unfollows"), s=Sum("reconciled_unfollows")
    )
    same_cursors = replayed_cursors == bulk_cursors == incremental_cursors
    checks = {
        "rebuild == incremental (every row)": again == incremental,
        "set-based rebuild == incremental (every row)": bulk_table == incremental,
        "cursors: replay == set-based == incremental": same_cursors,
        "follows + refollows == follow events": totals["f"] + totals["r"] == kinds.get("event.subscribe", 0),
        "unfollows == unfollow events": totals["u"] == kinds.get("event.unsubscribe", 0),
        "reconciled == sync facts": totals["s"] == kinds.get("sync.unfollow_reconciled", 0),
        "one cursor per fan": cursors == fans,
    }
    total_events = sum(kinds.values())
    print()
    print(f"| {database.split()[0]}, {fans:,} fans | value |")
    print("|---|---|")
    print(f"| events in the store (all kinds) | {total_events:,} |")
    print(f"| follow/unfollow events handled incrementally | {handled:,} |")
    print(f"| incremental: {args.slices} runs (+1 interrupted), total | {incremental_seconds:.1f} s |")
    print(
        f"| rebuild from zero, replayed | {rebuild_seconds:.1f} s ({rebuilt.events:,} events, "
        f"{total_events / rebuild_seconds:,.0f} events/s walked) |"
    )
    print(
        f"| rebuild from zero, set-based (ADR 21) | {bulk_seconds:.1f} s (write transaction "
        f"{filled.bulk.write_seconds * 1000:.0f} ms) |"
    )
    print(f"| slowest batch, reads included (up to {args.batch:,} events) | {slowest * 1000:.0f} ms |")
    print(
        f"| longest write transaction of a batch (SQLite: write lock held) | {longest_write * 1000:.0f} ms |"
    )
    print(f"| rows (account, China day, channel) | {len(again):,} |")
    print(
        f"| follows / refollows / unfollows / reconciled | {totals['f']:,} / {totals['r']:,} / "
        f"{totals['u']:,} / {totals['s']:,} |"
    )
    for name, ok in checks.items():
        print(f"| {name} | {'yes' if ok else 'NO'} |")
    if not all(checks.values()):
        raise SystemExit("bench.readmodels: a check failed")


if __name__ == "__main__":
    main()
