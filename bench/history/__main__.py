"""python -m bench.history: `liucun import-history` on a wxsim bulk file, bulk path against per-event.

Generates a year of history with `wxsim bulk` (default 200,000 fans x 365 days) for a fresh account in a
fresh database (SQLite unless DATABASE_URL is set; run under scripts/with-postgres for PostgreSQL), times
the bulk import (events/s, and each phase), then the read models catching up (separately), checks the
counts against the file, and for comparison times the per-event path on a slice of the same history for
a second account. Prints a table and writes bench/results/history-<time>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

START = 1_730_000_000


def _args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.history", description=__doc__)
    parser.add_argument("--fans", type=int, default=200_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="20,000 fans x 365 days, for a smoke run")
    parser.add_argument("--slice", type=int, default=50_000, help="events for the per-event comparison")
    parser.add_argument("--batch", type=int, help="bulk events per transaction (default: the command's)")
    parser.add_argument("--no-readmodels", action="store_true", help="skip the read models' catch-up")
    parser.add_argument("--dir", type=Path, help="where the bulk files go (default: a temporary directory)")
    return parser.parse_args()


def _setup_django() -> str:
    if not os.environ.get("DATABASE_URL"):
        os.environ["LIUCUN_DATA_DIR"] = tempfile.mkdtemp(prefix="liucun-bench-history-")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "liucun.settings")
    os.environ.setdefault("LIUCUN_LOG_LEVEL", "WARNING")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    from django.db import connection

    return f"{connection.vendor} {connection.settings_dict['NAME']}"


def _generate(path: Path, account: Any, fans: int, days: int, seed: int) -> float:
    began = time.perf_counter()
    subprocess.run(
        [
            str(Path(sys.executable).with_name("wxsim")),
            "bulk",
            str(path),
            "--appid",
            account.appid,
            "--original-id",
            account.original_id,
            "--fans",
            str(fans),
            "--days",
            str(days),
            "--seed",
            str(seed),
            "--start",
            str(START),
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - began


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _truth(path: Path) -> dict[str, int]:
    """What the file says, with numpy: events, fans, following at the end, unfollow events."""
    import numpy as np

    from liucun.inbound.history_import import HistoryFile

    history = HistoryFile(path)
    # Copies: the file's views cannot be closed while numpy still points into them.
    kind = np.array(history.kind, dtype=np.int8)
    fan = np.array(history.fan, dtype=np.int32)
    events, fans = history.events, int(history.header["fans"])
    history.close()
    follows = (kind == 0) | (kind == 1)
    last = np.full(fans, -1, np.int8)
    last[fan[follows]] = kind[follows]  # fancy assignment keeps the last write of each fan
    return {
        "events": events,
        "fans": fans,
        "following": int((last == 0).sum()),
        "unfollow_events": int((kind == 1).sum()),
    }


def main() -> None:
    args = _args()
    fans = 20_000 if args.quick else args.fans
    database = _setup_django()
    from django.core.management import call_command
    from django.db import connection

    from liucun.events.models import Event
    from liucun.fans.models import Fan, FollowPeriod
    from liucun.inbound.accounts_cache import get_callback_account
    from liucun.inbound.history_bulk import bulk_import
    from liucun.inbound.history_import import HistoryFile, import_history
    from liucun.testing.factories import make_account

    load = os.getloadavg()
    print(
        f"bench.history: {fans:,} fans x {args.days} days, database {database}, "
        f"Python {sys.version.split()[0]}, load average {load[0]:.1f}",
        flush=True,
    )
    work = args.dir or Path(tempfile.mkdtemp(prefix="liucun-bench-history-files-"))
    work.mkdir(parents=True, exist_ok=True)
    account = make_account(name="bench history", welcome_text="")
    path = work / f"history-{fans}x{args.days}.bin"
    results: dict[str, Any] = {
        "database": connection.vendor,
        "fans": fans,
        "days": args.days,
        "load_before": load[0],
    }
    try:
        results["generate_seconds"] = _generate(path, account, fans, args.days, args.seed)
        truth = _truth(path)
        results["file_bytes"] = path.stat().st_size
        print(f"  wxsim bulk: {truth['events']:,} events in {results['generate_seconds']:.1f} s", flush=True)

        callback_account = get_callback_account(account.appid)
        assert callback_account is not None
        history = HistoryFile(path)
        last = [time.perf_counter()]
        began, cpu = time.perf_counter(), _cpu()

        def progress(stats: Any) -> None:
            now = time.perf_counter()
            if now - last[0] >= 10:
                last[0] = now
                print(f"    {stats.events:,} events, {stats.events / (now - began):,.0f}/s", flush=True)

        try:
            stats = bulk_import(history, callback_account, batch=args.batch, progress=progress)
        finally:
            history.close()
        seconds, cpu_seconds = time.perf_counter() - began, _cpu() - cpu
        results["bulk"] = {
            "seconds": seconds,
            "cpu_seconds_python": cpu_seconds,
            "events_per_second": truth["events"] / seconds,
            "phases": stats.phases,
            "stored": stats.stored,
            "duplicates": stats.duplicates,
            "fans_created": stats.fans_created,
        }
        stored_events = Event.objects.filter(account=account).count()
        checks = {
            "events stored + duplicates in the file = events in the file": stats.stored + stats.duplicates
            == truth["events"],
            "event rows = stored": stored_events == stats.stored,
            "fans = fans in the file": Fan.objects.filter(account=account).count() == truth["fans"],
            "following = the file's": Fan.objects.filter(account=account, is_following=True).count()
            == truth["following"],
            "closed periods = unfollows in the file": FollowPeriod.objects.filter(
                account=account, unfollowed_at__isnull=False
            ).count()
            == truth["unfollow_events"],
        }
        results["checks"] = checks

        if not args.no_readmodels:
            from liucun.readmodels.registry import consumers

            results["readmodels"] = {}
            t = time.perf_counter()
            for consumer in consumers():
                one = time.perf_counter()
                call_command("readmodels", "run", consumer.name, stdout=sys.stdout)
                results["readmodels"][consumer.name] = time.perf_counter() - one
            results["readmodels_seconds"] = time.perf_counter() - t

        # The per-event path on a slice of the same history, for a second account.
        other = make_account(name="bench history per-event", welcome_text="")
        other_path = work / "per-event.bin"
        _generate(other_path, other, fans, args.days, args.seed)
        other_account = get_callback_account(other.appid)
        assert other_account is not None
        history = HistoryFile(other_path)
        t, cpu = time.perf_counter(), _cpu()
        try:
            slow = import_history(history, other_account, limit=args.slice)
        finally:
            history.close()
        slow_seconds = time.perf_counter() - t
        results["per_event"] = {
            "events": slow.events,
            "seconds": slow_seconds,
            "cpu_seconds_python": _cpu() - cpu,
            "events_per_second": slow.events / slow_seconds,
        }
        results["load_after"] = os.getloadavg()[0]
    finally:
        for leftover in work.glob("*.bin"):
            leftover.unlink()

    bulk, per_event = results["bulk"], results["per_event"]
    print()
    print("| path | events | wall s | events/s | Python CPU s |")
    print("|---|---:|---:|---:|---:|")
    print(
        f"| bulk | {truth['events']:,} | {bulk['seconds']:.1f} | **{bulk['events_per_second']:,.0f}** | "
        f"{bulk['cpu_seconds_python']:.1f} |"
    )
    print(
        f"| per-event (slice) | {per_event['events']:,} | {per_event['seconds']:.1f} | "
        f"{per_event['events_per_second']:,.0f} | {per_event['cpu_seconds_python']:.1f} |"
    )
    print("phases (s): " + ", ".join(f"{k} {v:.1f}" for k, v in bulk["phases"].items()))
    if "readmodels_seconds" in results:
        print(f"read models caught up in {results['readmodels_seconds']:.1f} s (not in the events/s above):")
        print("  " + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in results["readmodels"].items()))
    for name, ok in checks.items():
        print(f"  {'ok  ' if ok else 'FAIL'} {name}")
    out = Path("bench/results") / f"history-{connection.vendor}-{datetime.now(UTC):%Y%m%d-%H%M%S}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2, default=str))
    print(f"results: {out}")
    if not all(checks.values()):
        sys.exit(1)


if __name__ == "__main__":
    main()
