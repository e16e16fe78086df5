"""The benchmark's data: a wxsim bulk year for N fans, loaded through Liucun's bulk history import.

The file is written by `wxsim bulk` (the demo scenario: four channels, a giveaway one among them, weekly
pushes) and loaded with `liucun.inbound.history_bulk.bulk_import`, the path `liucun import-history` takes:
events, fans and follow periods exactly as the callback code would store them. The last `tail` events of
the file are held back, to be imported later as the live traffic the read models must keep up with.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

APPID = "wx5c616c650000b001"
ORIGINAL_ID = "gh_scale0000001"
# 2025-12-01 00:00 in China: the year of data ends with the China day 2026-11-30.
START = 1764518400


@dataclass
class Loaded:
    account: Any  # OfficialAccount
    header: dict[str, Any]
    events: int  # events in the file
    tail_from: int  # the first event of the held-back tail
    load_seconds: float  # 0 when reused
    reused: bool


def history_file(directory: Path, fans: int, days: int) -> Path:
    path = directory / f"wxsim-{fans}x{days}.bin"
    if not path.exists():
        began = time.perf_counter()
        partial = path.with_suffix(".partial")
        subprocess.run(
            [
                sys.executable,
                "-m",
                "wxsim",
                "bulk",
                str(partial),
                "--appid",
                APPID,
                "--original-id",
                ORIGINAL_ID,
                "--fans",
                str(fans),
                "--days",
                str(days),
                "--seed",
                "1",
                "--start",
                str(START),
            ],
            check=True,
        )
        partial.rename(path)
        print(
            f"  wxsim bulk wrote {path.stat().st_size / 1e6:,.0f} MB in {time.perf_counter() - began:.1f} s"
        )
    return path


def load(path: Path, tail: int, marker: Path) -> Loaded:
    """Load the file but its last `tail` events, once: a kept database (marker present) is reused."""
    from liucun.accounts.models import OfficialAccount
    from liucun.inbound.history_import import HistoryFile

    history = HistoryFile(path)
    try:
        header, events = history.header, history.events
    finally:
        history.close()
    tail_from = max(events - tail, 0)
    if marker.exists():
        account = OfficialAccount.objects.get(appid=APPID)
        return Loaded(account, header, events, tail_from, 0.0, reused=True)

    from liucun.testing.factories import make_account

    account = make_account(name="报表基准")
    OfficialAccount.objects.filter(pk=account.pk).update(appid=APPID, original_id=ORIGINAL_ID)
    account.refresh_from_db()
    began = time.perf_counter()
    stats = import_events(path, start=0, limit=tail_from)
    seconds = time.perf_counter() - began
    print(
        f"  bulk import: {stats.stored:,} events in {seconds:.1f} s "
        f"({stats.stored / max(seconds, 1e-9):,.0f}/s)",
        flush=True,
    )
    analyze()
    marker.write_text(json.dumps({"events": tail_from, "seconds": seconds}))
    return Loaded(account, header, events, tail_from, seconds, reused=False)


def import_events(path: Path, *, start: int, limit: int | None) -> Any:
    try:
        from liucun.inbound.history_bulk import bulk_import
    except ImportError:  # pragma: no cover - the bulk path landed with issue 13
        raise SystemExit(
            "bench.reports needs liucun.inbound.history_bulk (the bulk history import)"
        ) from None
    from liucun.inbound.accounts_cache import get_callback_account
    from liucun.inbound.history_import import HistoryFile

    account = get_callback_account(APPID)
    if account is None:
        raise SystemExit(f"bench.reports: no account {APPID}")
    began, last = time.monotonic(), [time.monotonic()]

    def progress(stats: Any) -> None:
        now = time.monotonic()
        if now - last[0] >= 30:
            last[0] = now
            print(f"    {stats.events:,} events, {stats.events / (now - began):,.0f}/s", flush=True)

    history = HistoryFile(path)
    try:
        return bulk_import(history, account, start=start, limit=limit, progress=progress)
    finally:
        history.close()


def analyze() -> None:
    from django.db import connection

    # Planner statistics as autovacuum keeps them on a running PostgreSQL (no VACUUM, as bench/fanlist).
    # A running SQLite has none (nothing in Liucun runs ANALYZE there), so none are made for it either.
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
