"""`liucun import-history FILE`: load a wxsim bulk history, then bring the read models up to date.

The bulk path (inbound/history_bulk.py) is the default; `--per-event` stores every record through the
callback's processing code one by one (the reference the bulk path is tested against).
"""

from __future__ import annotations

import time
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from liucun.inbound.accounts_cache import get_callback_account
from liucun.inbound.history_bulk import BulkRefused, BulkStats, bulk_import
from liucun.inbound.history_import import HistoryFile, HistoryFileError, ImportStats, import_history
from liucun.readmodels import runner
from liucun.readmodels.registry import consumers

REPORT_EVERY = 5.0  # seconds between progress lines
# How long the import waits for a gap in the event ids to settle before leaving it to the worker.
GAP_WAIT_SECONDS = 60


class Command(BaseCommand):
    help = "Import a wxsim bulk history file (wxsim bulk ...) into its account; safe to re-run."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--start",
            type=int,
            default=0,
            help="first record of the file to import (resumes --per-event; an interrupted bulk import is "
            "run again whole)",
        )
        parser.add_argument("--limit", type=int, help="import at most this many events")
        parser.add_argument(
            "--batch", type=int, help="events per transaction (bulk: 50,000 SQLite, 200,000 PostgreSQL)"
        )
        parser.add_argument(
            "--per-event", action="store_true", help="store records one by one through the callback code"
        )
        parser.add_argument(
            "--no-readmodels", action="store_true", help="leave the read models to the worker's next run"
        )
        parser.add_argument(
            "--rebuild-readmodels",
            action="store_true",
            help="rebuild the read models from zero instead of folding in the new events",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"{path} is not a file")
        if options["start"] < 0 or (options["limit"] is not None and options["limit"] < 0):
            raise CommandError("--start and --limit must not be negative")
        if options["batch"] is not None and options["batch"] < 1:
            raise CommandError("--batch must be at least 1")
        try:
            history = HistoryFile(path)
        except HistoryFileError as exc:
            raise CommandError(str(exc)) from None
        try:
            stats = self._import(history, options)
        finally:
            history.close()
        if stats.failed:
            raise CommandError(f"{stats.failed} events could not be stored; see the log and re-run")
        if not options["no_readmodels"]:
            # A history that outweighs what was there leaves the read models far behind: the runner then
            # rebuilds them set-based instead of folding the history in (runner.far_behind), the one
            # place that decides, for the worker as for this command.
            self._catch_up(options["rebuild_readmodels"])

    def _import(self, history: HistoryFile, options: dict[str, Any]) -> ImportStats | BulkStats:
        account = get_callback_account(history.header["appid"])
        if account is None:
            raise CommandError(
                f"no active account {history.header['appid']}; add it with `liucun account add`"
            )
        start = options["start"]
        end = history.events if options["limit"] is None else min(history.events, start + options["limit"])
        total = max(end - start, 0)
        began = time.monotonic()
        last = [began]

        def progress(stats: ImportStats | BulkStats) -> None:
            now = time.monotonic()
            if now - last[0] < REPORT_EVERY and stats.events < total:
                return
            last[0] = now
            rate = stats.events / max(now - began, 1e-9)
            eta = (total - stats.events) / rate if rate else 0.0
            self.stdout.write(
                f"{stats.events:,}/{total:,} events ({stats.events * 100 // max(total, 1)}%), "
                f"{stats.stored:,} new, {stats.duplicates:,} already there, {rate:,.0f}/s, "
                f"ETA {_duration(eta)}"
            )

        kwargs: dict[str, Any] = {"start": start, "limit": options["limit"], "progress": progress}
        try:
            if not options["per_event"]:
                try:
                    stats: ImportStats | BulkStats = bulk_import(
                        history, account, batch=options["batch"], **kwargs
                    )
                except BulkRefused as exc:
                    raise CommandError(f"{exc}; --per-event imports it one record at a time") from None
            else:
                stats = import_history(history, account, batch=options["batch"] or 2000, **kwargs)
        except HistoryFileError as exc:
            raise CommandError(str(exc)) from None
        seconds = time.monotonic() - began
        self.stdout.write(
            f"done: {stats.stored:,} stored, {stats.duplicates:,} already stored, {stats.failed:,} failed "
            f"in {seconds:.1f} s ({stats.events / max(seconds, 1e-9):,.0f} events/s)"
        )
        if isinstance(stats, BulkStats):
            self.stdout.write(
                f"fans: {stats.fans_created:,} new, {stats.fans_late:,} created by callbacks meanwhile; "
                f"{stats.per_event:,} events of fans known before went one by one"
            )
        return stats

    def _catch_up(self, rebuild: bool) -> None:
        """Bring every read model up to date now, so reports are complete when the import ends: folded in,
        or rebuilt set-based by the runner when the history dwarfs what was there before; or rebuilt from
        zero on request (`liucun readmodels rebuild`)."""
        began = time.monotonic()
        if rebuild:
            call_command("readmodels", "rebuild", stdout=self.stdout)
        behind: list[str] = []
        for consumer in [] if rebuild else consumers():
            deadline = time.monotonic() + GAP_WAIT_SECONDS
            while True:
                try:
                    result = runner.run(consumer)
                except runner.NotClaimed:
                    self.stdout.write(f"read model {consumer.name}: a worker is running it; it will catch up")
                    break
                filled = (
                    f"far behind: rebuilt set-based up to event {result.bulk.upto} in "
                    f"{result.bulk.seconds:.1f} s, then "
                    if result.bulk
                    else ""
                )
                self.stdout.write(
                    f"read model {result.name}: {filled}{result.events:,} events, at event {result.watermark}"
                )
                if not result.waiting_on_gap:
                    break
                if time.monotonic() >= deadline:
                    behind.append(consumer.name)
                    break
                # Ids burnt before (duplicates, rollbacks) leave gaps, passed once no transaction that may
                # still commit one is open (ADR 15): any transaction in the cluster, so wait for it a while.
                time.sleep(max(runner.GAP_GRACE.total_seconds(), 0.5))
        if behind:
            self.stdout.write(
                f"read models {', '.join(behind)} are waiting for a transaction still open in the database; "
                "the worker brings them up to date once it ends"
            )
            return
        self.stdout.write(f"read models caught up in {time.monotonic() - began:.1f} s")


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes} min {secs:02d} s" if minutes else f"{secs} s"
