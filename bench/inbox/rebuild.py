"""python -m bench.inbox.rebuild: rebuilding the inbox's conversations, replayed and set-based, same data.

Loads a wxsim bulk year for `--fans` fans (bench/reports/load.py: the bulk path of `liucun import-history`)
into a fresh database (SQLite unless DATABASE_URL is set; run under scripts/with-postgres for PostgreSQL),
then rebuilds the read model "inbox-conversations" twice on two histories:
  imported  the history as imported: every event is `source = import`, so no conversation comes of it;
  live      the same events as if every one had come by callback (a year of real callbacks), a rule's
            handoff on one menu click in 50 and one message in 100, and agents' work on the conversations
            (replies, resolutions, some of them older than later messages, so the rebuild reopens them).
Each history is rebuilt by replay (`runner.rebuild(bulk=False)`) and set-based (`rebuild_bulk`), from the
same starting rows (the conversations table is snapshotted and put back in between), and every column of
every conversation is compared. Reported: seconds, events walked per second, the longest write transaction
(on SQLite, how long callbacks wait for the write lock), and the load average before and after.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

FULL_YEAR_EVENTS = 48_381_751  # wxsim bulk, 1,000,000 fans x 365 days, seed 1
SNAPSHOT = "bench_inbox_conversations"
COLUMNS = (
    "id", "account_id", "openid", "fan_id", "state", "opened_by", "opened_at", "waiting_since",
    "last_fan_message_at", "messages", "handoff_at", "last_event_id", "assigned_to_id", "assigned_at",
    "read_messages", "replies", "first_response_at", "last_reply_at", "resolved_at",
)  # fmt: skip


def _args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.inbox.rebuild", description=__doc__)
    parser.add_argument("--fans", type=int, default=5000, help="fans of the wxsim year (default 5,000)")
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--dir", type=Path, help="where the wxsim file (and SQLite database) go")
    parser.add_argument(
        "--replay-budget", type=float, default=600.0, help="seconds a replay may run (then cut and scaled)"
    )
    return parser.parse_args()


def _setup_django(directory: Path) -> str:
    if not os.environ.get("DATABASE_URL"):
        os.environ["LIUCUN_DATA_DIR"] = tempfile.mkdtemp(prefix="db-", dir=directory)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "liucun.settings")
    os.environ.setdefault("LIUCUN_LOG_LEVEL", "WARNING")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    from django.db import connection

    return f"{connection.vendor} {connection.settings_dict['NAME']}"


def _load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


@dataclass
class Timed:
    how: str
    seconds: float
    events: int  # events of the consumer's kinds the runner handed it (a set-based fill: its catch-up)
    longest_write: float
    complete: bool  # False: a replay cut at the budget
    watermark: int


def _rebuild(*, bulk: bool, budget: float) -> Timed:
    from liucun.inbox.consumer import ConversationsConsumer
    from liucun.readmodels import runner

    consumer = ConversationsConsumer()
    began = time.perf_counter()
    result = runner.rebuild(consumer, bulk=bulk, budget=None if bulk else timedelta(seconds=budget))
    seconds = time.perf_counter() - began
    longest = max(result.longest_write_seconds, result.bulk.write_seconds if result.bulk else 0.0)
    head = _head()
    return Timed(
        "set-based" if result.bulk else "replay",
        seconds,
        result.events,
        longest,
        result.watermark >= head,
        result.watermark,
    )


def _head() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT COALESCE(MAX(id), 0) FROM events_event")
        return int(cursor.fetchone()[0])


def _rows() -> list[tuple[Any, ...]]:
    from liucun.inbox.models import Conversation

    return list(Conversation.objects.order_by("id").values_list(*COLUMNS))


def _snapshot() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {SNAPSHOT}")
        cursor.execute(f"CREATE TABLE {SNAPSHOT} AS SELECT * FROM inbox_conversation")


def _restore() -> None:
    """Put the conversations back as the snapshot holds them (no notes or measures refer to them here)."""
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM inbox_conversation")
        cursor.execute(f"INSERT INTO inbox_conversation SELECT * FROM {SNAPSHOT}")


def _make_live() -> dict[str, int]:
    """The imported year as if it had come by callback: what a year of real traffic leaves in the store.

    The bench writes the event table directly (the ORM refuses: it is append-only): the source of every
    event, and a rule's handoff on one menu click in 50 and one message in 100, chosen by id."""
    from django.db import connection, transaction

    from liucun.events.kinds import MESSAGE_KINDS

    messages = sorted(MESSAGE_KINDS)
    marks = ", ".join(["%s"] * len(messages))
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE events_event SET source = 'callback'")
        cursor.execute(
            "UPDATE events_event SET handoff = %s WHERE (kind = 'event.click' AND id %% 50 = 0)"
            f" OR (kind IN ({marks}) AND id %% 100 = 7)",
            [True, *messages],
        )
        cursor.execute("SELECT COUNT(*) FROM events_event WHERE handoff = %s", [True])
        handoffs = int(cursor.fetchone()[0])
    return {"handoffs": handoffs}


def _agents_work() -> dict[str, int]:
    """What agents did: every 4th conversation answered, every 3rd resolved; of the resolved, one in 5
    before the fan's last message (mid-year) and of the answered one in 5 before it too, so that a
    rebuild reopens or moves them. Written directly: the bench measures the consumer, not the actions."""
    from django.db import connection, transaction

    now = datetime.now(UTC)
    mid = datetime(2026, 6, 1, tzinfo=UTC)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE inbox_conversation SET state = 'waiting', replies = 1, waiting_since = NULL,"
            " first_response_at = %s, last_reply_at = CASE WHEN id %% 5 = 0 THEN %s ELSE %s END"
            " WHERE id %% 4 = 0",
            [now, mid, now],
        )
        answered = cursor.rowcount
        cursor.execute(
            "UPDATE inbox_conversation SET state = 'resolved', waiting_since = NULL,"
            " resolved_at = CASE WHEN id %% 5 = 1 THEN %s ELSE %s END WHERE id %% 3 = 0",
            [mid, now],
        )
        resolved = cursor.rowcount
    return {"answered": answered, "resolved": resolved}


def _compare(replayed: Timed, filled: Timed, replay_rows: list[Any], bulk_rows: list[Any]) -> str:
    if not replayed.complete:
        return "not compared (replay cut at the budget)"
    if replay_rows == bulk_rows:
        return f"yes ({len(bulk_rows):,} conversations, every column)"
    differing = sum(1 for a, b in zip(replay_rows, bulk_rows, strict=False) if a != b)
    return f"NO: {len(replay_rows):,} vs {len(bulk_rows):,} rows, {differing:,} differ"


def _history(label: str, budget: float, walked: int) -> dict[str, Any]:
    from liucun.inbox.consumer import ConversationsConsumer

    _snapshot()
    before = _load_average()
    replayed = _rebuild(bulk=False, budget=budget)
    replay_rows = _rows() if replayed.complete else []
    print(f"  {label}: replay {replayed.seconds:.1f} s ({replayed.events:,} events)", flush=True)
    filled: Timed | None = None
    again: Timed | None = None
    bulk_rows: list[Any] = []
    if ConversationsConsumer().supports_bulk():
        _restore()
        filled = _rebuild(bulk=True, budget=budget)
        bulk_rows = _rows()
        print(f"  {label}: set-based {filled.seconds:.1f} s", flush=True)
        # The usual rebuild (a new version of the logic, a time zone): rows that are right already.
        again = _rebuild(bulk=True, budget=budget)
    return {
        "label": label,
        "replayed": replayed,
        "filled": filled,
        "again": again,
        "same": _compare(replayed, filled, replay_rows, bulk_rows) if filled else "no set-based rebuild",
        "walked": walked,
        "load": f"{before} -> {_load_average()}",
    }


def _print(database: str, fans: int, outcomes: list[dict[str, Any]]) -> None:
    scale = FULL_YEAR_EVENTS / max(outcomes[0]["walked"], 1)
    print()
    print(f"| {database.split(maxsplit=1)[0]}, {fans:,} fans x 365 days | replay | set-based |")
    print("|---|---:|---:|")
    for o in outcomes:
        r: Timed = o["replayed"]
        f: Timed | None = o["filled"]
        walked = o["walked"] if r.complete else r.watermark
        replay_s = r.seconds if r.complete else r.seconds * o["walked"] / max(r.watermark, 1)
        cut = "" if r.complete else f" (cut at {r.seconds:.0f} s, scaled)"
        print(f"| **{o['label']}**: load average {o['load']} | | |")
        bulk_s = f"{f.seconds:.1f}" if f else ""
        print(f"| seconds | {replay_s:.1f}{cut} | {bulk_s} |")
        rate = f"{walked / max(r.seconds, 1e-9):,.0f}"
        bulk_rate = f"{o['walked'] / f.seconds:,.0f}" if f else ""
        print(f"| events walked per second | {rate} | {bulk_rate} |")
        print(
            f"| scaled to a year at 1M fans ({FULL_YEAR_EVENTS:,} events) | ~{replay_s * scale:,.0f} s |"
            + (f" ~{f.seconds * scale:,.0f} s |" if f else " |")
        )
        bulk_write = f"{f.longest_write * 1000:,.0f} ms" if f else ""
        print(f"| longest write transaction | {r.longest_write * 1000:,.0f} ms | {bulk_write} |")
        print(f"| same rows as the replay | | {o['same']} |")
        again: Timed | None = o["again"]
        if again is not None:
            print(
                "| set-based again, nothing to change: seconds, write transaction | |"
                f" {again.seconds:.1f} s, {again.longest_write * 1000:,.0f} ms |"
            )


def main() -> None:
    args = _args()
    directory = args.dir or Path(tempfile.mkdtemp(prefix="liucun-bench-inbox-rebuild-"))
    directory.mkdir(parents=True, exist_ok=True)
    database = _setup_django(directory)
    from bench.reports.load import history_file, load

    print(
        f"bench.inbox.rebuild: {args.fans:,} fans x {args.days} days, database {database}, "
        f"Python {sys.version.split()[0]}, load average {_load_average()}",
        flush=True,
    )
    path = history_file(directory, args.fans, args.days)
    load(path, 0, directory / f"loaded-{os.getpid()}.json")
    walked = _head()
    outcomes = [_history("imported", args.replay_budget, walked)]
    live = _make_live()
    # Agents worked on the conversations the live year opened: a replay makes them (not timed).
    from liucun.inbox.consumer import ConversationsConsumer
    from liucun.readmodels import runner

    runner.rebuild(ConversationsConsumer(), bulk=ConversationsConsumer().supports_bulk())
    work = _agents_work()
    print(f"  live: {live['handoffs']:,} handoffs; agents answered {work['answered']:,}, resolved "
          f"{work['resolved']:,}", flush=True)  # fmt: skip
    outcomes.append(_history("live", args.replay_budget, walked))
    _print(database, args.fans, outcomes)
    if any(str(o["same"]).startswith("NO") for o in outcomes):
        raise SystemExit("bench.inbox.rebuild: the set-based rows differ from the replay's")


if __name__ == "__main__":
    main()
