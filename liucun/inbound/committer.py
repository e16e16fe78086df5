"""Group commit for the callback path: one writer thread per process stores deliveries in batches.

Request threads hand their parsed delivery to the committer and wait for its outcome. The committer
takes whatever has queued up, stores it all in one transaction (a savepoint per delivery, so one bad
delivery cannot sink the others), commits once, and only then releases the waiting requests. Every
answer still leaves after its event is durably committed; the batch just shares the commit (and, on
SQLite, one turn of the write lock) among the requests that arrived together.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import DatabaseError, close_old_connections, connection, transaction

log = logging.getLogger(__name__)

MAX_BATCH = 128


@dataclass
class _Job:
    args: tuple[Any, ...]
    received_at: datetime
    future: Future[Any] = field(default_factory=Future)


class GroupCommitter:
    """Runs `store_one(*args, received_at)` for each submission, many per transaction."""

    def __init__(
        self,
        store_one: Callable[..., Any],
        *,
        lock: Callable[[], Any],
        order_key: Callable[[tuple[Any, ...]], Any] | None = None,
        max_batch: int = MAX_BATCH,
    ) -> None:
        self._store_one = store_one
        self._lock = lock
        self._order_key = order_key
        self._max_batch = max_batch
        self._queue: queue.SimpleQueue[_Job] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self.batches = 0
        self.stored = 0

    def submit(self, *args: Any, received_at: datetime) -> Future[Any]:
        self._ensure_started()
        job = _Job(args=args, received_at=received_at)
        self._queue.put(job)
        return job.future

    def _ensure_started(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        with self._start_lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="liucun-group-commit", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            batch = [self._queue.get()]
            while len(batch) < self._max_batch:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            self._commit(batch)

    def _commit(self, batch: list[_Job]) -> None:
        if self._order_key is not None:
            # A stable sort by fan keeps one fan's deliveries in arrival order and makes every batch take
            # row locks in the same order, so two processes' batches cannot deadlock on PostgreSQL.
            batch = sorted(batch, key=lambda job: self._order_key(job.args))  # type: ignore[misc]
        results: list[tuple[_Job, Any, BaseException | None]] = []
        try:
            with self._lock(), transaction.atomic():
                for job in batch:
                    try:
                        with transaction.atomic():
                            results.append((job, self._store_one(*job.args, job.received_at), None))
                    except DatabaseError as exc:
                        results.append((job, None, exc))
        except Exception as exc:
            log.error("group commit of %d deliveries failed: %s", len(batch), type(exc).__name__)
            close_old_connections()
            if connection.in_atomic_block is False:
                connection.close_if_unusable_or_obsolete()
            for job in batch:
                if not job.future.done():
                    job.future.set_exception(exc)
            return
        self.batches += 1
        self.stored += len(batch)
        for job, outcome, error in results:
            if error is not None:
                job.future.set_exception(error)
            else:
                job.future.set_result(outcome)
