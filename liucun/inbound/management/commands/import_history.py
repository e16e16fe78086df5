"""`liucun import-history FILE`: load a wxsim bulk history through the callback's processing code."""

from __future__ import annotations

import time
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from liucun.inbound.accounts_cache import get_callback_account
from liucun.inbound.history_import import HistoryFile, HistoryFileError, ImportStats, import_history


class Command(BaseCommand):
    help = "Import a wxsim bulk history file (wxsim bulk ...) into its account; safe to re-run."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--start", type=int, default=0, help="first event to import (to resume)")
        parser.add_argument("--limit", type=int, help="import at most this many events")
        parser.add_argument("--batch", type=int, default=2000, help="events per transaction")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"{path} is not a file")
        try:
            history = HistoryFile(path)
        except HistoryFileError as exc:
            raise CommandError(str(exc)) from None
        try:
            account = get_callback_account(history.header["appid"])
            if account is None:
                raise CommandError(
                    f"no active account {history.header['appid']}; add it with `liucun account add`"
                )
            total = history.events if options["limit"] is None else min(history.events, options["limit"])
            began = time.monotonic()
            last = [began]

            def progress(stats: ImportStats) -> None:
                now = time.monotonic()
                if now - last[0] >= 5 or stats.events == total:
                    last[0] = now
                    rate = stats.events / max(now - began, 1e-9)
                    self.stdout.write(
                        f"{stats.events}/{total} events ({stats.events * 100 // max(total, 1)}%), "
                        f"{stats.stored} new, {stats.duplicates} already there, {rate:.0f}/s; "
                        f"resume with --start {options['start'] + stats.events}"
                    )

            try:
                stats = import_history(
                    history,
                    account,
                    batch=options["batch"],
                    start=options["start"],
                    limit=options["limit"],
                    progress=progress,
                )
            except HistoryFileError as exc:
                raise CommandError(str(exc)) from None
        finally:
            history.close()
        self.stdout.write(
            f"done: {stats.stored} stored, {stats.duplicates} already stored, {stats.failed} failed"
        )
        if stats.failed:
            raise CommandError(f"{stats.failed} events could not be stored; see the log and re-run")
