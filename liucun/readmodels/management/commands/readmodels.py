"""`liucun readmodels status|run|rebuild [name]`: look at, catch up or rebuild the read models."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from liucun.readmodels import pace, runner
from liucun.readmodels.consumer import Consumer
from liucun.readmodels.registry import UnknownConsumer, consumer_named, consumers

# What the next run does with a consumer far behind (pace.far_behind, pace.Pace).
_CATCH_UP_NOTES = {
    "set-based": (
        ", far behind: the next run rebuilds it set-based (replays it while callbacks come in on SQLite)"
    ),
    "replay": ", far behind: the next run replays it, in large batches while no callback waits",
    "": "",
}


class Command(BaseCommand):
    help = "Show, run or rebuild the read models kept off the event store."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["status", "run", "rebuild"])
        parser.add_argument("name", nargs="?", help="one read model (default: all)")
        parser.add_argument(
            "--batch",
            type=int,
            default=runner.BATCH,
            help="events per transaction (a far-behind replay takes up to "
            f"{pace.CATCH_UP_BATCH:,} while no callback waits)",
        )
        parser.add_argument(
            "--replay",
            action="store_true",
            help="rebuild by replaying every event, even where a set-based rebuild exists",
        )
        parser.add_argument(
            "--one-transaction",
            action="store_true",
            help="SQLite: fill a set-based rebuild in one write transaction, several times faster for large "
            "tables but holding back every callback until it commits (minutes at 200,000 fans): for a "
            "maintenance window with the callback stopped. By default large fills go in short chunks.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        action, name, batch = options["action"], options["name"], options["batch"]
        if batch < 1:
            raise CommandError("--batch must be at least 1")
        try:
            selected = [consumer_named(name)] if name else consumers()
        except UnknownConsumer as exc:
            raise CommandError(str(exc)) from None
        if action == "status":
            for row in runner.status():
                if name and row["name"] != name:
                    continue
                self.stdout.write(
                    f"{row['name']}: at event {row['watermark']} of {row['head']} "
                    f"({row['behind']} behind), {row['events_seen']} events handled, "
                    f"last run {row['last_run_at'] or 'never'}, rebuilt {row['rebuilt_at'] or 'never'}"
                    + (", running" if row["running"] else "")
                    + (
                        f", waiting on a gap since {row['waiting_on_gap_since']}"
                        if row["waiting_on_gap_since"]
                        else ""
                    )
                    + (", needs a rebuild" if row["needs_rebuild"] else "")
                    + _CATCH_UP_NOTES[str(row["catch_up"])]
                )
            return
        with runner.together():
            for consumer in selected:
                self._one(
                    consumer, action, batch, replay=options["replay"], chunked=not options["one_transaction"]
                )

    def _one(self, consumer: Consumer, action: str, batch: int, *, replay: bool, chunked: bool) -> None:
        try:
            if action == "rebuild":
                result = runner.rebuild(consumer, batch=batch, bulk=not replay, chunked=chunked)
            else:
                result = runner.run(consumer, batch=batch)
        except runner.NotClaimed:
            raise CommandError(f"{consumer.name} is being run by another worker; try again later") from None
        filled = (
            ("far behind: rebuilt set-based instead of replayed, " if result.far_behind else "")
            + f"filled set-based up to event {result.bulk.upto} in {result.bulk.seconds:.1f} s "
            f"({_writing(result.bulk)}), then "
            if result.bulk
            else ""
        )
        self.stdout.write(
            f"{result.name}: {filled}{result.events} events in {result.batches} batches, "
            f"now at event {result.watermark}"
            + (" (rebuilt)" if result.rebuilt else "")
            + (" (waiting for a gap in the event ids to settle)" if result.waiting_on_gap else "")
        )


def _writing(fill: runner.BulkFill) -> str:
    if fill.chunks <= 1:
        return f"{fill.write_seconds:.1f} s of it writing"
    return (
        f"{fill.write_seconds:.1f} s of it writing, in {fill.chunks} transactions of at most "
        f"{fill.longest_write_seconds:.2f} s"
    )
