"""Leader/follower group commit: deliveries that arrive together share one transaction.

A request thread queues its delivery and then either becomes the leader (if no batch is being stored)
or waits. The leader takes everything queued, stores it in one transaction on its own connection,
commits, hands each delivery of the batch its outcome, steps down and wakes the first thread still
waiting, which leads the next batch. Only that one thread is woken: waking them all would spend the
CPU the batching saves. Nothing is answered before its batch is durably committed. Under light
load a batch is one delivery and this is an ordinary transaction; under load a batch shares the commit
(and on SQLite one turn of the write lock) among the deliveries that queued while the last one ran.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")

MAX_BATCH = 256


@dataclass
class _Slot(Generic[T, R]):
    item: T
    done: bool = False
    result: R | None = None
    error: BaseException | None = None
    event: threading.Event = field(default_factory=threading.Event)


class GroupCommit(Generic[T, R]):
    """`store_batch(items) -> results` runs for a whole batch; it must commit before returning."""

    def __init__(
        self, store_batch: Callable[[Sequence[T]], Sequence[R | BaseException]], max_batch: int = MAX_BATCH
    ) -> None:
        self._store_batch = store_batch
        self._max_batch = max_batch
        self._lock = threading.Lock()
        self._pending: list[_Slot[T, R]] = []
        self._leading = False
        self.batches = 0
        self.items = 0

    def submit(self, item: T, timeout: float | None = None) -> R:
        slot: _Slot[T, R] = _Slot(item)
        with self._lock:
            self._pending.append(slot)
        while not slot.done:
            with self._lock:
                lead = not self._leading and not slot.done
                if lead:
                    self._leading = True
                    batch = self._pending[: self._max_batch]
                    del self._pending[: self._max_batch]
            if lead:
                try:
                    self._run(batch)
                finally:
                    with self._lock:
                        self._leading = False
                        successor = self._pending[0] if self._pending else None
                    # Wake one waiter to lead the next batch; the others sleep until their batch is done.
                    if successor is not None:
                        successor.event.set()
            elif not slot.event.wait(timeout):
                raise TimeoutError("the delivery was not stored in time")
            else:
                slot.event.clear()
        if slot.error is not None:
            raise slot.error
        return slot.result  # type: ignore[return-value]

    def _run(self, batch: list[_Slot[T, R]]) -> None:
        try:
            results = self._store_batch([slot.item for slot in batch])
        except BaseException as exc:
            for slot in batch:
                slot.error, slot.done = exc, True
                slot.event.set()
            raise_if_interrupt(exc)
            return
        self.batches += 1
        self.items += len(batch)
        for slot, result in zip(batch, results, strict=True):
            if isinstance(result, BaseException):
                slot.error = result
            else:
                slot.result = result
            slot.done = True
            slot.event.set()


def raise_if_interrupt(exc: BaseException) -> None:
    if isinstance(exc, KeyboardInterrupt | SystemExit):
        raise exc
