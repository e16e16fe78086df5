"""python -m bench.activity.rebuild: the fan-activity read model rebuilt by replay and set-based, same data.

Loads a wxsim year (`wxsim bulk`, the demo scenario, through Liucun's bulk history import: the path
bench.reports takes) for --fans fans into a fresh database (SQLite unless DATABASE_URL is set; run under
scripts/with-postgres for PostgreSQL), then rebuilds the fan-activity tables from zero twice: by replaying
every event through the consumer, and set-based (ADR 21, activity/bulk.py), and checks every row of the
three tables (cursors included) is equal. Prints events/s for both, the set-based fill's write transaction
(on SQLite, how long callbacks wait for the write lock) and the load average; writes JSON to bench/results/.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.setup import setup_django

FULL_YEAR_EVENTS = 48_381_751  # wxsim bulk, 1,000,000 fans x 365 days, seed 1
REBUILD_TARGET_S = 600


def _args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.activity.rebuild", description=__doc__)
    parser.add_argument("--fans", type=int, default=5_000, help="fans of the wxsim year (default 5,000)")
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--keep", type=Path, help="directory to keep the file and the SQLite database in")
    parser.add_argument("--no-replay", action="store_true", help="only the set-based rebuild")
    return parser.parse_args()


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _rows() -> tuple[list[tuple], list[tuple], list[tuple]]:
    from liucun.activity.models import ActivityFanCursor, ActivityKindDay, ActivityPeriod

    return (
        list(
            ActivityKindDay.objects.order_by("account_id", "day", "kind").values_list(
                "account_id", "day", "kind", "events", "fans"
            )
        ),
        list(
            ActivityPeriod.objects.order_by("account_id", "granularity", "start").values_list(
                "account_id", "granularity", "start", "active", "new", "returning", "resurrecting", "dormant"
            )
        ),
        list(
            ActivityFanCursor.objects.order_by("account_id", "openid").values_list(
                "account_id", "openid", "last_at", "last_event_id", "kind_days"
            )
        ),
    )


def _rebuild(bulk: bool) -> dict[str, Any]:
    from liucun.activity.consumer import ActivityConsumer
    from liucun.readmodels import runner

    load_before = _load()
    began, cpu = time.perf_counter(), time.process_time()
    result = runner.rebuild(ActivityConsumer(), bulk=bulk)
    seconds, cpu = time.perf_counter() - began, time.process_time() - cpu
    if bulk and result.bulk is None:
        raise SystemExit("bench.activity.rebuild: the set-based rebuild did not run (no safe watermark?)")
    return {
        "how": "set-based" if bulk else "replay",
        "seconds": seconds,
        # SQLite works inside this process, so this is nearly all of it; PostgreSQL works in the server.
        "cpu_seconds": cpu,
        "events_handled": result.events,
        "watermark": result.watermark,
        "write_seconds": result.bulk.write_seconds if result.bulk else result.longest_write_seconds,
        "load_average": [load_before, _load()],
    }


def main() -> None:
    args = _args()
    directory = args.keep or Path(tempfile.mkdtemp(prefix="liucun-bench-activity-rebuild-", dir="/tmp"))
    directory.mkdir(parents=True, exist_ok=True)
    database = setup_django(directory)
    from django.db import connection

    from bench.reports.load import APPID, history_file, load
    from liucun.accounts.models import OfficialAccount
    from liucun.activity.definitions import ACTIVE_KINDS
    from liucun.events.models import Event

    started_at = datetime.now(UTC)
    print(
        f"bench.activity.rebuild: {args.fans:,} fans x {args.days} days, database {database}, "
        f"Python {sys.version.split()[0]}, load average {_load()}",
        flush=True,
    )
    path = history_file(directory, args.fans, args.days)
    marker = directory / f"loaded-{connection.vendor}.json"
    if not OfficialAccount.objects.filter(appid=APPID).exists():
        marker.unlink(missing_ok=True)  # a fresh database: whatever was loaded before is gone
    load(path, 0, marker)
    events = Event.objects.count()
    interactions = Event.objects.filter(kind__in=ACTIVE_KINDS).count()
    print(f"  {events:,} events, {interactions:,} of them interactions", flush=True)

    runs: list[dict[str, Any]] = []
    replayed = None
    if not args.no_replay:
        runs.append(_rebuild(bulk=False))
        replayed = _rows()
    runs.append(_rebuild(bulk=True))
    filled = _rows()
    results: dict[str, Any] = {
        "database": connection.vendor,
        "fans": args.fans,
        "days": args.days,
        "events": events,
        "interactions": interactions,
        "rows": {"kind days": len(filled[0]), "periods": len(filled[1]), "cursors": len(filled[2])},
        "equal": None if replayed is None else replayed == filled,
        "runs": runs,
        # The high-water mark of this process (KiB on Linux): SQLite keeps TEMP tables in memory. Run again
        # with --keep on the loaded database to see the rebuild's alone.
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "started": started_at.isoformat(),
        "command": " ".join(sys.argv),
    }
    _print(results)
    out = Path("bench/results") / f"activity-rebuild-{connection.vendor}-{started_at:%Y%m%d-%H%M%S}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=1, default=str))
    print(f"\nresults: {out}" + (f"; data kept in {directory}" if args.keep else ""))
    if results["equal"] is False:
        raise SystemExit("bench.activity.rebuild: the set-based rows differ from the replayed ones")


def _print(results: dict[str, Any]) -> None:
    scale = max(FULL_YEAR_EVENTS / max(results["events"], 1), 1.0)
    rows = results["rows"]
    print(
        f"\n{results['database']}, {results['fans']:,} fans x {results['days']} days: {results['events']:,} "
        f"events ({results['interactions']:,} interactions); {rows['kind days']:,} kind-day rows, "
        f"{rows['periods']:,} period rows, {rows['cursors']:,} cursors"
    )
    print(
        f"\n| rebuild | time | this process's CPU | events walked/s | write transaction "
        f"| x{scale:.1f} (48.4M events) | load average |"
    )
    print("|---|---:|---:|---:|---:|---:|---|")
    for run in results["runs"]:
        scaled = run["seconds"] * scale
        verdict = "met" if scaled <= REBUILD_TARGET_S else "NOT met"
        print(
            f"| {run['how']} | {run['seconds']:.1f} s | {run['cpu_seconds']:.1f} s "
            f"| {results['events'] / run['seconds']:,.0f} | "
            f"{run['write_seconds']:.2f} s | ~{scaled:,.0f} s: {verdict} | "
            f"{run['load_average'][0]} -> {run['load_average'][1]} |"
        )
    print(f"\npeak memory of this process: {results['peak_rss_mib']:,.0f} MiB")
    if results["equal"] is not None:
        print(f"\nset-based rows == replayed rows (all three tables, cursors included): {results['equal']}")


if __name__ == "__main__":
    main()
