"""python -m bench.reports: analytics at 1,000,000 fans and ~50,000,000 events (issue 13's targets).

Loads a wxsim bulk year (bench/reports/load.py) into a fresh database (SQLite unless DATABASE_URL is set;
run under scripts/with-postgres for PostgreSQL), holding back its last `--tail` events, then:
  (a) rebuilds every registered read model from zero and times it (target: at most 10 minutes each at
      1,000,000 fans); a read model without a set-based rebuild replays, cut off after --replay-budget
      seconds with its rate and the time a whole replay would take;
  (b) imports the tail (the live traffic of the last days, through the same bulk import) and times each
      read model catching up on it: events per second against the ingest benchmark's saturation rate;
  (c) times every registered report through its API operation (the console page and the CSV run the
      same build) for the year, with default options and with one channel, and the console overview:
      `--repeat` runs each after a warm-up, p50 and p95 (targets: 200 ms a report, 100 ms the overview).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.setup import setup_django

INGEST_SATURATION = 1200  # callbacks/s, bench/ingest on this machine (docs/performance.md)
REPORT_TARGET_MS = 200
OVERVIEW_TARGET_MS = 100
REBUILD_TARGET_S = 600
FULL_YEAR_EVENTS = 48_381_751  # wxsim bulk, 1,000,000 fans x 365 days, seed 1


def _args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.reports", description=__doc__)
    parser.add_argument("--fans", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--quick", action="store_true", help="20,000 fans and a 20,000-event tail")
    parser.add_argument("--tail", type=int, help="events held back as live traffic (default 200,000)")
    parser.add_argument("--repeat", type=int, default=20, help="timed runs per report shape")
    parser.add_argument(
        "--replay-budget", type=float, default=300.0, help="seconds a replayed rebuild may run (default 300)"
    )
    parser.add_argument("--keep", type=Path, help="directory to keep the file and the SQLite database in")
    parser.add_argument(
        "--only",
        choices=["load", "rebuild", "tail", "reports"],
        action="append",
        help="run only these phases (repeatable); the load is skipped when --keep holds it already",
    )
    parser.add_argument(
        "--read-model",
        action="append",
        dest="read_models",
        help="rebuild only this read model (registry name; repeatable; default every one)",
    )
    parser.add_argument(
        "--one-transaction",
        action="store_true",
        help="fill set-based rebuilds in one write transaction on SQLite too (as before chunked_fill.py)",
    )
    args = parser.parse_args()
    if args.quick:
        args.fans = 20_000
    if args.tail is None:
        args.tail = 20_000 if args.quick else 200_000
    return args


def _ms(samples: list[float]) -> tuple[float, float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered) * 1000, p95 * 1000, ordered[-1] * 1000


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def rebuild_all(budget: float, names: list[str] | None, *, chunked: bool = True) -> list[dict[str, Any]]:
    from django.db import connection

    from bench.reports.lockprobe import probing, summary
    from liucun.readmodels import runner
    from liucun.readmodels.models import ConsumerState
    from liucun.readmodels.registry import consumers

    rows = []
    for consumer in consumers():
        if names and consumer.name not in names:
            continue
        began = time.perf_counter()
        # On SQLite a process writes the way a callback does throughout: how long it waited is what the
        # rebuild cost live traffic (PostgreSQL has no global write lock).
        sqlite_db = str(connection.settings_dict["NAME"]) if connection.vendor == "sqlite" else None
        waits: list[float] = []
        try:
            if sqlite_db:
                with probing(sqlite_db) as waits:
                    result = runner.rebuild(consumer, budget=timedelta(seconds=budget), chunked=chunked)
            else:
                result = runner.rebuild(consumer, budget=timedelta(seconds=budget), chunked=chunked)
        except Exception as exc:  # recorded: the other read models are still timed
            rows.append({"name": consumer.name, "error": f"{type(exc).__name__}: {exc}"[:200]})
            print(f"  rebuild {consumer.name}: {rows[-1]['error']}", flush=True)
            continue
        seconds = time.perf_counter() - began
        head = runner.status()
        behind = next(r["behind"] for r in head if r["name"] == consumer.name)
        state = ConsumerState.objects.get(name=consumer.name)
        row: dict[str, Any] = {
            "name": consumer.name,
            "set_based": result.bulk is not None,
            "seconds": seconds,
            "bulk_seconds": result.bulk.seconds if result.bulk else None,
            "bulk_write_seconds": result.bulk.write_seconds if result.bulk else None,
            "bulk_longest_write_seconds": result.bulk.longest_write_seconds if result.bulk else None,
            "bulk_chunks": result.bulk.chunks if result.bulk else None,
            "replayed_events": result.events,
            "longest_write_seconds": result.longest_write_seconds,
            "finished": behind == 0,
            "watermark": state.last_event_id,
            "callback_waits": summary(waits) if sqlite_db else None,
        }
        if behind:
            # Cut off: how long the whole replay would take at the rate it walked ids.
            rate = state.last_event_id / seconds
            row["projected_seconds"] = (state.last_event_id + behind) / max(rate, 1e-9)
        rows.append(row)
        print(
            f"  rebuild {consumer.name}: {seconds:.1f} s"
            + (
                f" (set-based, {result.bulk.write_seconds:.1f} s writing in {result.bulk.chunks}"
                f" transactions, the longest {result.bulk.longest_write_seconds:.2f} s)"
                if result.bulk
                else " (replay)"
            )
            + ("" if row["finished"] else f", cut off {behind:,} events short")
            + (_waits_text(row["callback_waits"]) if sqlite_db else ""),
            flush=True,
        )
    return rows


def catch_up_tail(path: Path, tail_from: int) -> dict[str, Any]:
    from bench.reports.load import import_events
    from liucun.events.models import Event
    from liucun.readmodels import runner
    from liucun.readmodels.registry import consumers

    before = Event.objects.order_by("-id").values_list("id", flat=True).first() or 0
    began = time.perf_counter()
    stats = import_events(path, start=tail_from, limit=None)
    imported = time.perf_counter() - began
    after = Event.objects.order_by("-id").values_list("id", flat=True).first() or 0
    rows = []
    for consumer in consumers():
        states = {r["name"]: r for r in runner.status()}
        if states[consumer.name]["watermark"] < before or states[consumer.name]["needs_rebuild"]:
            rows.append({"name": consumer.name, "skipped": "still replaying its rebuild"})
            continue
        t = time.perf_counter()
        try:
            result = runner.run(consumer)
        except Exception as exc:  # recorded: the other read models are still timed
            rows.append({"name": consumer.name, "skipped": f"{type(exc).__name__}: {exc}"[:200]})
            continue
        seconds = time.perf_counter() - t
        rows.append(
            {
                "name": consumer.name,
                "seconds": seconds,
                "events_walked": result.watermark - before,
                "events_handled": result.events,
                "events_per_second": (result.watermark - before) / max(seconds, 1e-9),
                "longest_write_seconds": result.longest_write_seconds,
            }
        )
        print(
            f"  caught up {consumer.name}: {seconds:.1f} s for {result.watermark - before:,} events",
            flush=True,
        )
    total = sum(r.get("seconds", 0.0) for r in rows)
    return {
        "imported": stats.stored,
        "import_seconds": imported,
        "new_ids": after - before,
        "consumers": rows,
        "all_consumers_seconds": total,
        "all_consumers_events_per_second": (after - before) / max(total, 1e-9),
    }


def time_reports(account: Any, end: date, channel: str, repeat: int) -> list[dict[str, Any]]:
    from django.contrib.auth import get_user_model
    from django.test import Client

    from liucun.analytics.report import specs
    from liucun.analytics.snapshot import refresh_all
    from liucun.staff.api_tokens import create_api_token
    from liucun.staff.models import Membership, Role

    # A report that fails is recorded in its row; its traceback in the log would bury the results.
    logging.getLogger("django").setLevel(logging.CRITICAL)
    # The following-now snapshot, as the worker's periodic task keeps it (every 5 minutes): without one
    # each view counts the fans table (analytics/snapshot.py), which a running platform never does.
    refresh_all()
    user = get_user_model().objects.create_user(f"bench-reports-{time.time_ns()}")
    Membership.objects.create(user=user, account=account, role=Role.ADMIN)
    _, key = create_api_token(user, "bench", max_role=Role.ADMIN)
    api = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    console = Client()
    console.force_login(user)
    start = end - timedelta(days=364)
    shapes: list[tuple[str, str, Callable[[], Any], float]] = []
    for spec in specs():
        base = f"/api/accounts/{account.appid}/reports/{spec.name}?start={start}&end={end}"
        shapes.append((spec.name, "year", lambda url=base: api.get(url), REPORT_TARGET_MS))
        if spec.by_channel:
            url = f"{base}&channel={channel}"
            shapes.append(
                (spec.name, f"year, channel {channel}", lambda url=url: api.get(url), REPORT_TARGET_MS)
            )
    overview = f"/a/{account.appid}/"
    shapes.append(("console overview", "", lambda: console.get(overview), OVERVIEW_TARGET_MS))
    rows = []
    for name, shape, fetch, target in shapes:
        try:
            first = fetch()
        except Exception as exc:  # a report that fails is recorded, and the others still timed
            rows.append({"name": name, "shape": shape, "error": f"{type(exc).__name__}: {exc}"[:200]})
            print(f"  {name} ({shape}): {rows[-1]['error']}", flush=True)
            continue
        if first.status_code != 200:
            rows.append({"name": name, "shape": shape, "error": f"HTTP {first.status_code}"})
            print(f"  {name} ({shape}): HTTP {first.status_code}", flush=True)
            continue
        samples = []
        for _ in range(repeat):
            t = time.perf_counter()
            response = fetch()
            samples.append(time.perf_counter() - t)
            assert response.status_code == 200
        p50, p95, top = _ms(samples)
        rows_out = len(first.json()["rows"]) if name != "console overview" else None
        rows.append(
            {
                "name": name,
                "shape": shape,
                "p50": p50,
                "p95": p95,
                "max": top,
                "target": target,
                "rows": rows_out,
            }
        )
        print(f"  {name} ({shape}): p50 {p50:.1f} ms, p95 {p95:.1f} ms", flush=True)
    return rows


def main() -> None:
    args = _args()
    directory = args.keep or Path(tempfile.mkdtemp(prefix="liucun-bench-reports-", dir="/tmp"))
    directory.mkdir(parents=True, exist_ok=True)
    database = setup_django(directory)
    from django.db import connection

    from bench.reports.load import APPID, analyze, history_file, load

    phases = set(args.only or ["rebuild", "tail", "reports"])
    started_at = datetime.now(UTC)
    print(
        f"bench.reports: {args.fans:,} fans x {args.days} days, database {database}, "
        f"Python {sys.version.split()[0]}, load average {_load()}",
        flush=True,
    )
    path = history_file(directory, args.fans, args.days)
    marker = directory / f"loaded-{connection.vendor}.json"
    from liucun.accounts.models import OfficialAccount

    if not OfficialAccount.objects.filter(appid=APPID).exists():
        marker.unlink(missing_ok=True)  # a fresh database: whatever was loaded before is gone
    loaded = load(path, args.tail, marker)
    results: dict[str, Any] = {
        "database": connection.vendor,
        "fans": args.fans,
        "days": args.days,
        "file_events": loaded.events,
        "loaded_events": loaded.tail_from,
        "load_seconds": loaded.load_seconds,
        "started": started_at.isoformat(),
        "load_average_start": _load(),
        "command": " ".join(sys.argv),
    }
    if args.one_transaction:
        results["one_transaction"] = True
    if "rebuild" in phases:
        results["rebuild"] = rebuild_all(
            args.replay_budget, args.read_models, chunked=not args.one_transaction
        )
    if "tail" in phases:
        if json.loads(marker.read_text()).get("tail"):
            print("  the tail was imported into this kept database already: (b) skipped")
        else:
            results["tail"] = catch_up_tail(path, loaded.tail_from)
            marker.write_text(json.dumps({**json.loads(marker.read_text()), "tail": True}))
            analyze()
    if "reports" in phases:
        end = _last_day(loaded.header)
        channel = next(c for c in loaded.header["channels"] if c)
        results["reports"] = time_reports(loaded.account, end, channel, args.repeat)
    results["load_average_end"] = _load()
    _print(results)
    out = Path("bench/results") / f"reports-{connection.vendor}-{started_at:%Y%m%d-%H%M%S}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=1, default=str))
    print(f"\nresults: {out}; data kept in {directory}" if args.keep else f"\nresults: {out}")


def _last_day(header: dict[str, Any]) -> date:
    from bench.reports.load import START
    from liucun.analytics.periods import site_zone

    first = datetime.fromtimestamp(START, UTC).astimezone(site_zone()).date()
    return first + timedelta(days=int(header["days"]) - 1)


def _waits_text(waits: dict[str, Any]) -> str:
    if not waits.get("writes"):
        return "; no probe write"
    return (
        f"; a callback's write waited p50 {waits['p50_ms']:.0f} ms, p99 {waits['p99_ms']:.0f} ms,"
        f" at most {waits['max_ms']:.0f} ms ({waits['over_callback_timeout']} of {waits['writes']} over 3 s)"
    )


def _print(results: dict[str, Any]) -> None:
    print()
    print(
        f"{results['database']}, {results['fans']:,} fans x {results['days']} days: "
        f"{results['loaded_events']:,} events loaded"
        + (f" in {results['load_seconds']:.0f} s" if results["load_seconds"] else " (kept database)")
        + f"; load average {results['load_average_start']} -> {results['load_average_end']}"
    )
    if "rebuild" in results:
        # Below a year at 1,000,000 fans the time is scaled to its 48.4 million events, linearly: a
        # replay and a scan of the event store both grow with the events walked.
        scale = max(FULL_YEAR_EVENTS / max(results["loaded_events"], 1), 1.0)
        print(
            f"\n| read model | rebuild | how | writing (transactions) | longest write | a callback waited |"
            f" x{scale:.1f} (48.4M events) vs 600 s |"
        )
        print("|---|---:|---|---:|---:|---:|---|")
        for row in results["rebuild"]:
            if "error" in row:
                print(f"| {row['name']} | {row['error']} | | | | | NOT measured |")
                continue
            how = "set-based" if row["set_based"] else "replay"
            if row["set_based"]:
                # Older result files have no chunks: one transaction.
                chunks = row.get("bulk_chunks") or 1
                writing = f"{row['bulk_write_seconds']:.2f} s ({chunks})"
                longest = row.get("bulk_longest_write_seconds") or row["bulk_write_seconds"]
            else:
                writing, longest = "", row["longest_write_seconds"]
            whole = row["seconds"] if row["finished"] else row["projected_seconds"]
            if row["finished"]:
                took = f"{row['seconds']:.1f} s"
            else:
                took = f"cut off at {row['seconds']:.0f} s; whole: ~{row['projected_seconds']:,.0f} s"
            scaled = whole * scale
            met = f"~{scaled:,.0f} s: " + ("met" if scaled <= REBUILD_TARGET_S else "NOT met")
            probe = row.get("callback_waits") or {}
            waited = f"{probe['max_ms'] / 1000:.2f} s max" if probe.get("writes") else ""
            print(f"| {row['name']} | {took} | {how} | {writing} | {longest:.2f} s | {waited} | {met} |")
    if "tail" in results:
        tail = results["tail"]
        print(
            f"\ntail: {tail['imported']:,} events imported in {tail['import_seconds']:.1f} s; "
            f"all read models caught up in {tail['all_consumers_seconds']:.1f} s = "
            f"{tail['all_consumers_events_per_second']:,.0f} events/s "
            f"(ingest saturates at ~{INGEST_SATURATION:,}/s)"
        )
        print("\n| read model | catch-up | events/s | longest write |")
        print("|---|---:|---:|---:|")
        for row in tail["consumers"]:
            if "skipped" in row:
                print(f"| {row['name']} | {row['skipped']} | | |")
                continue
            print(
                f"| {row['name']} | {row['seconds']:.1f} s | {row['events_per_second']:,.0f} | "
                f"{row['longest_write_seconds'] * 1000:.0f} ms |"
            )
    if "reports" in results:
        print("\n| report | range | rows | p50 ms | p95 ms | max ms | target |")
        print("|---|---|---:|---:|---:|---:|---|")
        for row in results["reports"]:
            if "error" in row:
                print(f"| {row['name']} | {row['shape']} | {row['error']} | | | | NOT met |")
                continue
            met = "met" if row["p95"] <= row["target"] else "NOT met"
            print(
                f"| {row['name']} | {row['shape']} | {row['rows'] if row['rows'] is not None else ''} | "
                f"{row['p50']:.1f} | {row['p95']:.1f} | {row['max']:.1f} | {met} ({row['target']:.0f}) |"
            )


if __name__ == "__main__":
    main()
