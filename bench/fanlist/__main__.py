"""python -m bench.fanlist: the fan list with filters at 1,000,000 fans, per page as the API serves it.

Loads N fans (default 1,000,000) with realistic spreads into a fresh database (SQLite unless DATABASE_URL
is set; run under scripts/with-postgres for PostgreSQL), then times pages of GET /accounts/{appid}/fans:
the count and the page, exactly as liucun.api.routes.list_fans builds them, for a mix of filters,
orderings and deep pages, and a few through the real endpoint (Django's test client, API token).
Reports p50, p95 and max per query shape. The target is p95 at most 200 ms per page.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time


def _args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.fanlist", description=__doc__)
    parser.add_argument("--fans", type=int, default=1_000_000)
    parser.add_argument("--quick", action="store_true", help="100,000 fans, for a smoke run")
    parser.add_argument("--repeat", type=int, default=20, help="timed pages per query shape")
    return parser.parse_args()


def _setup_django() -> str:
    if not os.environ.get("DATABASE_URL"):
        os.environ["LIUCUN_DATA_DIR"] = tempfile.mkdtemp(prefix="liucun-bench-fanlist-")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "liucun.settings")
    os.environ.setdefault("LIUCUN_LOG_LEVEL", "WARNING")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    from django.db import connection

    return f"{connection.vendor} {connection.settings_dict['NAME']}"


def _ms(samples: list[float]) -> tuple[float, float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered) * 1000, p95 * 1000, ordered[-1] * 1000


def main() -> None:
    args = _args()
    n = 100_000 if args.quick else args.fans
    database = _setup_django()
    from bench.fanlist.load import load_fans
    from bench.fanlist.shapes import api_page, shapes

    print(f"bench.fanlist: {n:,} fans, database {database}, Python {sys.version.split()[0]}")
    started = time.perf_counter()
    world = load_fans(n)
    print(f"  loaded in {time.perf_counter() - started:.1f} s (not counted)")
    rows: list[tuple[str, tuple[float, float, float], int]] = []
    for name, page_of in shapes(world):
        page_of(0)  # warm the cache the way a second visitor would find it
        samples = []
        count = 0
        for i in range(args.repeat):
            t = time.perf_counter()
            count = page_of(i)
            samples.append(time.perf_counter() - t)
        rows.append((name, _ms(samples), count))
        print(f"  {name}: p95 {rows[-1][1][1]:.1f} ms", flush=True)
    api_page(world, 0)  # first call makes the bench user and token
    samples = []
    for i in range(args.repeat):
        t = time.perf_counter()
        api_page(world, i)
        samples.append(time.perf_counter() - t)
    rows.append(("HTTP GET /api/accounts/{appid}/fans?following=true&channel=…", _ms(samples), -1))
    print()
    print("| query shape (50 a page) | matching fans | p50 ms | p95 ms | max ms |")
    print("|---|---|---|---|---|")
    for name, (p50, p95, top), count in rows:
        shown = f"{count:,}" if count >= 0 else "—"
        print(f"| {name} | {shown} | {p50:.1f} | {p95:.1f} | {top:.1f} |")
    worst = max(r[1][1] for r in rows)
    print(f"\nworst p95: {worst:.1f} ms (target: at most 200 ms)")


if __name__ == "__main__":
    main()
