"""python -m bench.service: the customer-service report for a year of a busy inbox (issue 13's 200 ms).

Loads two accounts (bench/service/load.py): the timed one with --questions answered questions a day
(default 1,000) and --resolutions resolutions a day (default 300) for a year, and a second one of similar
size (--other-questions), so an index that does not lead with the account reads both. Rows go in with
executemany. Then times the report's API operation (GET /api/accounts/{appid}/reports/service with an
admin's API token, through Django's test client: what the console page and the CSV build too) for a
one-year range at day, week and month granularity: one warm-up, then --repeat runs, p50/p95/max, a
Markdown table, and JSON under --results. SQLite unless DATABASE_URL is set (scripts/with-postgres for
PostgreSQL).

With --keep DIR the SQLite file stays in DIR and a later run reuses the loaded accounts (on PostgreSQL the
database lives as long as the with-postgres server): run it once from a worktree of the old code and
then from this one to time before and after on the same rows (README.md).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

TARGET_MS = 200
BUSY = "客服基准 busy"
OTHER = "客服基准 other"


def _args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.service", description=__doc__)
    parser.add_argument(
        "--questions", type=int, default=1000, help="questions answered a day (timed account)"
    )
    parser.add_argument("--resolutions", type=int, default=300, help="resolutions a day (timed account)")
    parser.add_argument("--other-questions", type=int, default=800, help="questions a day, second account")
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--repeat", type=int, default=20, help="timed runs per granularity")
    parser.add_argument("--quick", action="store_true", help="100 questions and 30 resolutions a day")
    parser.add_argument("--keep", type=Path, help="directory of the SQLite file, reused when loaded already")
    parser.add_argument("--label", default="", help="a name for this run in the results (e.g. baseline)")
    parser.add_argument("--results", type=Path, default=Path("bench/results"), help="where the JSON goes")
    args = parser.parse_args()
    if args.quick:
        args.questions, args.resolutions, args.other_questions = 100, 30, 80
    return args


def _setup_django(directory: Path) -> str:
    if not os.environ.get("DATABASE_URL"):
        os.environ["LIUCUN_DATA_DIR"] = str(directory)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "liucun.settings")
    os.environ.setdefault("LIUCUN_LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.db import connection

    return f"{connection.vendor} {connection.settings_dict['NAME']}"


def _migrate() -> float:
    from django.core.management import call_command

    began = time.perf_counter()
    call_command("migrate", verbosity=0)
    return time.perf_counter() - began


def _load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def _ms(samples: list[float]) -> tuple[float, float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered) * 1000, p95 * 1000, ordered[-1] * 1000


def _analyze() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        # Statistics, as a running database has them; no VACUUM (see bench/fanlist/load.py).
        cursor.execute("ANALYZE")


def _ensure_loaded(args: argparse.Namespace) -> dict[str, Any]:
    from bench.service.load import load_account
    from liucun.accounts.models import OfficialAccount
    from liucun.analytics.periods import today

    end = today()
    days = [end - timedelta(days=i) for i in range(args.days - 1, -1, -1)]
    existing = OfficialAccount.objects.filter(name=BUSY).first()
    if existing is not None:
        return {"account": existing, "loaded": "reused", "days": days}
    now = datetime.now(UTC)
    began = time.perf_counter()
    busy = load_account(BUSY, days, args.questions, args.resolutions, seed=1, now=now)
    other_resolutions = args.resolutions * args.other_questions // max(args.questions, 1)
    other = load_account(OTHER, days, args.other_questions, other_resolutions, seed=2, now=now)
    seconds = time.perf_counter() - began
    digest_seconds = _digest([busy.account.pk, other.account.pk])
    _analyze()
    print(
        f"  loaded in {seconds:.1f} s (not counted): timed account {busy.first_responses:,} first responses, "
        f"{busy.resolutions:,} resolutions, {busy.waiting:,} still waiting; second account "
        f"{other.first_responses:,} / {other.resolutions:,} / {other.waiting:,}",
        flush=True,
    )
    return {
        "account": busy.account,
        "loaded": {
            "seconds": seconds,
            "busy": [busy.first_responses, busy.resolutions, busy.waiting],
            "other": [other.first_responses, other.resolutions, other.waiting],
            "digest_seconds": digest_seconds,
        },
        "days": days,
    }


def _digest(account_ids: list[int]) -> float | None:
    """Rows went in with executemany, past Measure.save: the per-day digest is made from them after."""
    try:
        from liucun.inbox.measure_days import rebuild
    except ImportError:  # the code from before the digest (a baseline run)
        return None
    began = time.perf_counter()
    read = sum(rebuild(account_id) for account_id in account_ids)
    seconds = time.perf_counter() - began
    print(f"  per-day digest of {read:,} measures made in {seconds:.1f} s (not counted)", flush=True)
    return seconds


def _measure_indexes() -> list[str]:
    from django.db import connection

    with connection.cursor() as cursor:
        return sorted(
            name
            for name, info in connection.introspection.get_constraints(cursor, "inbox_measure").items()
            if info["index"] and not info["primary_key"]
        )


def time_report(account: Any, days: list[Any], repeat: int) -> list[dict[str, Any]]:
    from django.contrib.auth import get_user_model
    from django.test import Client

    from liucun.staff.api_tokens import create_api_token
    from liucun.staff.models import Membership, Role

    user = get_user_model().objects.create_user(f"bench-service-admin-{time.time_ns()}")
    Membership.objects.create(user=user, account=account, role=Role.ADMIN)
    _, key = create_api_token(user, "bench", max_role=Role.ADMIN)
    api = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    rows = []
    for granularity in ("day", "week", "month"):
        url = (
            f"/api/accounts/{account.appid}/reports/service?start={days[0]}&end={days[-1]}"
            f"&granularity={granularity}"
        )
        first = api.get(url)
        if first.status_code != 200:
            raise SystemExit(f"{url}: HTTP {first.status_code} {first.content[:300]!r}")
        samples = []
        for _ in range(repeat):
            t = time.perf_counter()
            response = api.get(url)
            samples.append(time.perf_counter() - t)
            assert response.status_code == 200
        p50, p95, top = _ms(samples)
        body = first.json()
        rows.append(
            {
                "granularity": granularity,
                "rows": len(body["rows"]),
                "answered": sum(r["answered"] for r in body["rows"]),
                # Equal before and after a change of how the report reads: the same numbers.
                "rows_sha256": hashlib.sha256(json.dumps(body["rows"], sort_keys=True).encode()).hexdigest(),
                "p50": p50,
                "p95": p95,
                "max": top,
            }
        )
        print(f"  {granularity:5}: p50 {p50:6.1f} ms  p95 {p95:6.1f} ms  max {top:6.1f} ms", flush=True)
    return rows


def _commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError):
        return "?"
    return out.stdout.strip()


def main() -> None:
    args = _args()
    directory = args.keep or Path(tempfile.mkdtemp(prefix="liucun-bench-service-", dir="/tmp"))
    directory.mkdir(parents=True, exist_ok=True)
    database = _setup_django(directory)
    started_at = datetime.now(UTC)
    print(
        f"bench.service{' ' + args.label if args.label else ''}: {database}, code {_commit()}, "
        f"Python {sys.version.split()[0]}, load average {_load_average()}",
        flush=True,
    )
    migrate_seconds = _migrate()
    print(f"  migrate: {migrate_seconds:.1f} s", flush=True)
    world = _ensure_loaded(args)
    if world["loaded"] == "reused" and migrate_seconds > 1:
        _analyze()  # a new index: statistics for it, as after the load
    results: dict[str, Any] = {
        "label": args.label,
        "database": database.split()[0],
        "code": _commit(),
        "started": started_at.isoformat(),
        "load_average_start": _load_average(),
        "questions_a_day": args.questions,
        "resolutions_a_day": args.resolutions,
        "days": args.days,
        "loaded": world["loaded"],
        "migrate_seconds": migrate_seconds,
        "measure_indexes": _measure_indexes(),
        "command": " ".join(sys.argv),
    }
    results["report"] = time_report(world["account"], world["days"], args.repeat)
    results["load_average_end"] = _load_average()
    _print(results)
    args.results.mkdir(parents=True, exist_ok=True)
    name = f"service-{results['database']}-{args.label or 'run'}-{started_at:%Y%m%d-%H%M%S}.json"
    out = args.results / name
    out.write_text(json.dumps(results, indent=1, default=str))
    print(f"\nresults: {out}")


def _print(results: dict[str, Any]) -> None:
    print()
    print(
        f"{results['database']}{' (' + results['label'] + ')' if results['label'] else ''}, code "
        f"{results['code']}, measure indexes {', '.join(results['measure_indexes'])}; load average "
        f"{results['load_average_start']} -> {results['load_average_end']}"
    )
    print("\n| granularity | rows | answered | rows sha256 | p50 ms | p95 ms | max ms | target |")
    print("|---|---:|---:|---|---:|---:|---:|---|")
    for row in results["report"]:
        met = "met" if row["p95"] <= TARGET_MS else "NOT met"
        print(
            f"| {row['granularity']} | {row['rows']} | {row['answered']:,} | {row['rows_sha256'][:12]} | "
            f"{row['p50']:.1f} | "
            f"{row['p95']:.1f} | {row['max']:.1f} | {met} ({TARGET_MS}) |"
        )


if __name__ == "__main__":
    main()
