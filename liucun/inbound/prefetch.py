"""Work out the next item while the caller stores the current one: a background thread, one item ahead.

The bulk history import spends its time in two places that can overlap: Python turning records into rows
(the GIL held) and the database storing the previous batch (SQLite inside one `sqlite3_step`, PostgreSQL in
its own process while the driver waits on the socket, both with the GIL released). The thread only ever
computes; everything that touches the database stays on the caller's thread and connection, so Django's
per-thread connections and an open test transaction see the same thing as without it.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Generic, TypeVar

In = TypeVar("In")
Out = TypeVar("Out")

_DONE = object()


class _Failed:
    def __init__(self, error: BaseException) -> None:
        self.error = error


class Prefetch(Generic[In, Out]):
    """Iterate over `produce(item)` for each item, in order, computing up to `ahead` items in advance.

    An exception in `produce` is raised to the caller at the item it failed on. Leaving the `with` block
    early (the caller failed, or stopped) stops the thread before it starts another item.
    """

    def __init__(self, produce: Callable[[In], Out], items: Iterable[In], *, ahead: int = 1) -> None:
        self._produce, self._items = produce, items
        self._queue: queue.Queue[object] = queue.Queue(maxsize=ahead)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="liucun-prefetch", daemon=True)

    def __enter__(self) -> Iterator[Out]:
        self._thread.start()
        return self._results()

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        # Unblock a producer waiting for room, then wait for it to see the stop.
        while self._thread.is_alive():
            with contextlib.suppress(queue.Empty):
                self._queue.get(timeout=0.05)
        self._thread.join()

    def _results(self) -> Iterator[Out]:
        while True:
            got = self._queue.get()
            if got is _DONE:
                return
            if isinstance(got, _Failed):
                raise got.error
            yield got  # type: ignore[misc]

    def _run(self) -> None:
        try:
            for item in self._items:
                if self._stop.is_set():
                    return
                if not self._put(self._produce(item)):
                    return
        except BaseException as error:  # handed to the caller's thread, which raises it
            self._put(_Failed(error))
            return
        self._put(_DONE)

    def _put(self, value: object) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(value, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False
