"""Serialise SQLite write transactions across threads and processes with an OS file lock.

SQLite lets one writer in at a time and makes the others poll with sleeps of 1, 2, 5, 10 ... ms. Under a
steady callback load that polling, not the work, sets the tail latency. A blocking flock() hands the
lock straight to the next waiter instead. PostgreSQL has row locks and needs none of this.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress

from django.db import connections

_local = threading.local()


class _Descriptors(dict[str, int]):
    """A thread's lock files. Held only by the thread's local storage, which goes when the thread ends:
    a short-lived thread that wrote (a rebuild's lease renewal) then closes its descriptor instead of
    leaking one per thread."""

    def __del__(self) -> None:
        for fd in self.values():
            with suppress(OSError):
                os.close(fd)


def _lock_fd(db_name: str) -> int | None:
    if not db_name or db_name == ":memory:" or "mode=memory" in db_name:
        return None
    fds: _Descriptors = getattr(_local, "fds", None) or _Descriptors()
    _local.fds = fds
    fd = fds.get(db_name)
    if fd is None:
        # One descriptor per thread: flock() locks belong to the open file, so threads exclude each other.
        fd = os.open(f"{db_name}.writelock", os.O_RDWR | os.O_CREAT, 0o600)
        fds[db_name] = fd
    return fd


@contextmanager
def serialized_writes(using: str = "default") -> Iterator[None]:
    connection = connections[using]
    if connection.vendor != "sqlite":
        yield
        return
    fd = _lock_fd(str(connection.settings_dict["NAME"]))
    if fd is None:
        yield
        return
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
