"""Who runs a consumer: a lease taken with a conditional UPDATE, renewed with every batch and, through one
long step (a set-based rebuild), by a thread, so two workers never run a consumer at once."""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from django.db import DatabaseError, close_old_connections, connection, transaction
from django.db.models import Q

from liucun.readmodels.models import ConsumerState
from liucun.sqlite_writelock import serialized_writes

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)
# While one long step runs (a set-based rebuild's scan: 11 minutes at 1,000,000 fans), a thread renews
# the lease this often, so it never runs out and no other worker takes the consumer meanwhile.
RENEW_EVERY = LEASE / 5


class NotClaimed(Exception):
    """Another worker holds this consumer."""


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def claim(name: str, owner: str, now: datetime) -> bool:
    with serialized_writes(), transaction.atomic():
        ConsumerState.objects.get_or_create(name=name)
        return (
            ConsumerState.objects.filter(name=name)
            .filter(Q(owner="") | Q(owner=owner) | Q(lease_until__lt=now))
            .update(owner=owner, lease_until=now + LEASE)
            == 1
        )


def release(name: str, owner: str) -> None:
    with serialized_writes(), transaction.atomic():
        ConsumerState.objects.filter(name=name, owner=owner).update(owner="", lease_until=None)


def renew(name: str, owner: str, now: datetime) -> bool:
    """Extend the owner's lease; False when the consumer is no longer the owner's."""
    with serialized_writes(), transaction.atomic():
        return ConsumerState.objects.filter(name=name, owner=owner).update(lease_until=now + LEASE) == 1


@contextmanager
def lease_renewed(name: str, owner: str) -> Iterator[None]:
    """Hold the claim through one long step: a thread renews the lease every RENEW_EVERY until it ends.

    The batch loop renews the lease with every batch; a set-based rebuild is one step that can outlast
    LEASE, after which another worker could claim the consumer (its write would then be refused, the
    whole scan wasted). The thread uses its own connection; on SQLite it waits for the write lock like
    any writer, and on PostgreSQL for the state row the rebuild's transaction locks, so it is stopped
    only after that transaction has ended."""
    stop = threading.Event()
    thread = threading.Thread(
        target=_renew_until, args=(name, owner, stop), name=f"lease-{name}", daemon=True
    )
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def _renew_until(name: str, owner: str, stop: threading.Event) -> None:
    try:
        while not stop.wait(RENEW_EVERY.total_seconds()):
            try:
                if not renew(name, owner, datetime.now(UTC)):
                    log.warning("read model %s: the lease of %s was lost during a rebuild", name, owner)
                    return
            except DatabaseError:
                # One missed renewal is harmless (five fit into the lease); the next one retries.
                log.exception("read model %s: the lease could not be renewed", name)
            finally:
                close_old_connections()
    finally:
        connection.close()
