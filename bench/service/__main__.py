"""python -m bench.service: the customer-service report for a year of a busy inbox (issue 13's 200 ms).

Loads two accounts (bench/service/load.py): the timed one with --questions answered questions a day
(default 1,000) and --resolutions resolutions a day (default 300) for a year, and a second one of similar
size (--other-questions), so an index that does not lead with the account reads both. Rows go in with
executemany, with every fan's acquisition channel (fan-activity cursors, --fans), the worker's channel
sync and --events-since-sync events it has not seen yet. Then times the report's API operation (GET
/api/accounts/{appid}/reports/service with an admin's API token, through Django's test client: what the
console page and the CSV build too) for a one-year range at day, week and month granularity, for every
channel together and for each of --channels: one warm-up, then --repeat runs, p50/p95/max, a Markdown
table, and JSON under --results; and --writes measures saved one by one (rolled back). SQLite unless
DATABASE_URL is set (scripts/with-postgres for PostgreSQL).

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
from urllib.parse import quote

TARGET_MS = 200
NO_CHANNEL_SHOWN = "~"  # analytics.periods.NO_CHANNEL: fans without a QR code, in a query string
CONVERSATIONS_AT_LEAST = 120_000  # load.CONVERSATIONS, without importing Django before the settings
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
    parser.add_argument(
        "--fans", type=int, default=1_000_000, help="fans with an acquisition channel (timed account)"
    )
    parser.add_argument("--other-fans", type=int, default=200_000, help="the same, second account")
    parser.add_argument(
        "--channels",
        default="store_1,~,qr_00",
        help="channels timed besides all of them, comma-separated (~: fans without a QR code)",
    )
    parser.add_argument(
        "--events-since-sync",
        type=int,
        default=5000,
        help="events (a tenth of them follows) after the channels' last sync, which each view looks through",
    )
    parser.add_argument(
        "--writes", type=int, default=200, help="measures saved one by one on today's row, timed, rolled back"
    )
    parser.add_argument("--repeat", type=int, default=20, help="timed runs per granularity")
    parser.add_argument("--quick", action="store_true", help="100 questions and 30 resolutions a day")
    parser.add_argument("--keep", type=Path, help="directory of the SQLite file, reused when loaded already")
    parser.add_argument("--label", default="", help="a name for this run in the results (e.g. baseline)")
    parser.add_argument("--results", type=Path, default=Path("bench/results"), help="where the JSON goes")
    args = parser.parse_args()
    if args.quick:
        args.questions, args.resolutions, args.other_questions = 100, 30, 80
        args.fans, args.other_fans = CONVERSATIONS_AT_LEAST, CONVERSATIONS_AT_LEAST
    if min(args.fans, args.other_fans) < CONVERSATIONS_AT_LEAST:
        parser.error(f"--fans and --other-fans: at least the {CONVERSATIONS_AT_LEAST:,} fans who asked")
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
        other_account = OfficialAccount.objects.get(name=OTHER)
        channels = _ensure_channels(args, existing.pk, other_account.pk)
        channels["sync"] = _synced(args, existing.pk)
        return {"account": existing, "loaded": "reused", "days": days, "channels": channels}
    now = datetime.now(UTC)
    began = time.perf_counter()
    busy = load_account(BUSY, days, args.questions, args.resolutions, seed=1, now=now)
    other_resolutions = args.resolutions * args.other_questions // max(args.questions, 1)
    other = load_account(OTHER, days, args.other_questions, other_resolutions, seed=2, now=now)
    seconds = time.perf_counter() - began
    channels = _ensure_channels(args, busy.account.pk, other.account.pk)
    digest_seconds = _digest([busy.account.pk, other.account.pk])
    _analyze()
    channels["sync"] = _synced(args, busy.account.pk)
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
        "channels": channels,
    }


def _ensure_channels(args: argparse.Namespace, busy_id: int, other_id: int) -> dict[str, Any]:
    """The fans' acquisition channels (fan-activity cursors), loaded once: a kept database from before
    the channel breakdown gets them on its next run."""
    from bench.service.load import load_channels
    from liucun.activity.models import ActivityFanCursor

    cursors = ActivityFanCursor.objects.filter(account_id=busy_id)
    if cursors.exists():
        return {"fans": cursors.count(), "loaded": "reused"}
    began = time.perf_counter()
    asked = load_channels(busy_id, args.fans, seed=1)
    load_channels(other_id, args.other_fans, seed=2)
    seconds = time.perf_counter() - began
    _analyze()
    print(
        f"  {args.fans + args.other_fans:,} fans' channels loaded in {seconds:.1f} s (not counted); fans who "
        f"asked per channel: {', '.join(f'{c or NO_CHANNEL_SHOWN}: {n:,}' for c, n in asked.items())}",
        flush=True,
    )
    return {"fans": args.fans, "asked_per_channel": asked, "seconds": seconds}


def _synced(args: argparse.Namespace, busy_id: int) -> dict[str, Any] | None:
    """The worker's channel sync (once), then events it has not seen yet: what a view corrects by itself."""
    try:
        from liucun.activity.service_channels import READ_MODEL, sync_all
    except ImportError:  # the code from before the channel breakdown (a baseline run)
        return None
    from liucun.activity.consumer import ActivityConsumer
    from liucun.inbox.models import MeasureChannelSync
    from liucun.readmodels.models import ConsumerState

    done = MeasureChannelSync.objects.filter(account_id=busy_id).first()
    if done is not None:
        return {"seconds": None, "upto": done.upto, "reused": True}
    # The fan-activity read model as a running worker leaves it: caught up with the event store.
    ConsumerState.objects.get_or_create(
        name=READ_MODEL, defaults={"fingerprint": ActivityConsumer().fingerprint()}
    )
    began = time.perf_counter()
    looked_up = sum(sync_all().values())
    seconds = time.perf_counter() - began
    print(f"  channels of {looked_up:,} conversations synced in {seconds:.1f} s (not counted)", flush=True)
    events = _events_after_sync(busy_id, args.events_since_sync)
    return {"seconds": seconds, "looked_up": looked_up, "events_since": events}


def _events_after_sync(account_id: int, n: int) -> int:
    """n events of the timed account's fans after the sync, handled by the read model: a tenth follows
    (their fans' conversations are looked up again by each view), the rest messages."""
    import random

    from bench.service.load import openid
    from liucun.activity.service_channels import READ_MODEL
    from liucun.events.kinds import FOLLOW
    from liucun.events.models import Event
    from liucun.readmodels.models import ConsumerState

    rng = random.Random(99)
    now = datetime.now(UTC)
    events = []
    for i in range(n):
        fan = rng.randrange(300_000)
        follow = i % 10 == 0
        payload = {"FromUserName": openid(1, fan), "MsgType": "event" if follow else "text"}
        payload |= {"Event": "subscribe", "EventKey": ""} if follow else {"Content": "在吗"}
        events.append(
            Event(
                account_id=account_id,
                openid=openid(1, fan),
                kind=FOLLOW if follow else "text",
                dedupe_key=f"bench-service-after-sync-{i}",
                wechat_time=now,
                received_at=now,
                payload=payload,
            )
        )
    Event.objects.bulk_create(events, batch_size=1000)
    head = Event.objects.order_by("-id").values_list("id", flat=True).first() or 0
    ConsumerState.objects.filter(name=READ_MODEL).update(last_event_id=head, head_event_id=head)
    return n


def _time_writes(account: Any, n: int) -> dict[str, float] | None:
    """Measure.save of n first responses asked today (the day's digest row the fullest it gets: adding
    to it rewrites its arrays), each in a savepoint of one transaction rolled back at the end: the
    digest's work, without the commit."""
    if n <= 0:
        return None
    from django.db import transaction

    from liucun.inbox.models import Conversation, Measure

    conversations = list(Conversation.objects.filter(account=account).values_list("pk", flat=True)[:n])
    asked = datetime.now(UTC) - timedelta(minutes=30)
    samples = []
    with transaction.atomic():
        for i, conversation_id in enumerate(conversations):
            began = time.perf_counter()
            with transaction.atomic():
                Measure.objects.create(
                    account=account,
                    conversation_id=conversation_id,
                    kind=Measure.Kind.FIRST_RESPONSE,
                    started_at=asked,
                    ended_at=asked + timedelta(minutes=5 + i % 7),
                    wall_seconds=300.0 + 60 * (i % 7),
                    service_seconds=300.0 + 60 * (i % 7),
                )
            samples.append(time.perf_counter() - began)
        transaction.set_rollback(True)
    p50, p95, top = _ms(samples)
    print(f"  Measure.save x{len(samples)}: p50 {p50:.2f} ms  p95 {p95:.2f} ms  max {top:.2f} ms", flush=True)
    return {"n": len(samples), "p50": p50, "p95": p95, "max": top}


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


def time_report(account: Any, days: list[Any], repeat: int, channels: list[str]) -> list[dict[str, Any]]:
    """Every granularity for all channels ("") and for each of `channels` (query-string values)."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    from liucun.staff.api_tokens import create_api_token
    from liucun.staff.models import Membership, Role

    user = get_user_model().objects.create_user(f"bench-service-admin-{time.time_ns()}")
    Membership.objects.create(user=user, account=account, role=Role.ADMIN)
    _, key = create_api_token(user, "bench", max_role=Role.ADMIN)
    api = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    rows = []
    for channel in ["", *channels]:
        for granularity in ("day", "week", "month"):
            url = (
                f"/api/accounts/{account.appid}/reports/service?start={days[0]}&end={days[-1]}"
                f"&granularity={granularity}"
            )
            if channel:
                url += f"&channel={quote(channel)}"
            rows.append(_time_url(api, url, repeat) | {"channel": channel, "granularity": granularity})
            row = rows[-1]
            print(
                f"  {channel or '(all)':8} {granularity:5}: answered {row['answered']:8,}  "
                f"p50 {row['p50']:6.1f} ms  p95 {row['p95']:6.1f} ms  max {row['max']:6.1f} ms",
                flush=True,
            )
    return rows


def _time_url(api: Any, url: str, repeat: int) -> dict[str, Any]:
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
    return {
        "rows": len(body["rows"]),
        "answered": sum(r["answered"] for r in body["rows"]),
        # Equal before and after a change of how the report reads: the same numbers.
        "rows_sha256": hashlib.sha256(json.dumps(body["rows"], sort_keys=True).encode()).hexdigest(),
        "p50": p50,
        "p95": p95,
        "max": top,
    }


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
    results["channels"] = world["channels"]
    chosen = [c.strip() for c in args.channels.split(",") if c.strip()]
    results["report"] = time_report(world["account"], world["days"], args.repeat, chosen)
    results["writes"] = _time_writes(world["account"], args.writes)
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
    print("\n| channel | granularity | rows | answered | rows sha256 | p50 ms | p95 ms | max ms | target |")
    print("|---|---|---:|---:|---|---:|---:|---:|---|")
    for row in results["report"]:
        met = "met" if row["p95"] <= TARGET_MS else "NOT met"
        print(
            f"| {row['channel'] or '(all)'} | {row['granularity']} | {row['rows']} | {row['answered']:,} | "
            f"{row['rows_sha256'][:12]} | "
            f"{row['p50']:.1f} | "
            f"{row['p95']:.1f} | {row['max']:.1f} | {met} ({TARGET_MS}) |"
        )


if __name__ == "__main__":
    main()
