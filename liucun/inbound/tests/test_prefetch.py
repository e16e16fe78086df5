"""The prefetch thread of the bulk history import: order, errors and early exits."""

from __future__ import annotations

import threading
import time

import pytest

from liucun.inbound.prefetch import Prefetch


def test_results_come_in_order_computed_one_ahead() -> None:
    started: list[int] = []

    def produce(n: int) -> int:
        started.append(n)
        return n * n

    seen = []
    with Prefetch(produce, range(6)) as results:
        for value in results:
            seen.append(value)
            # The thread works one item ahead of the caller, never further (memory stays two batches).
            time.sleep(0.01)
            assert len(started) <= len(seen) + 2
    assert seen == [0, 1, 4, 9, 16, 25]


def test_an_error_in_produce_reaches_the_caller_at_its_item() -> None:
    def produce(n: int) -> int:
        if n == 3:
            raise ValueError("record 3 is bad")
        return n

    seen = []
    with pytest.raises(ValueError, match="record 3 is bad"), Prefetch(produce, range(10)) as results:
        seen.extend(results)
    assert seen == [0, 1, 2]


def test_leaving_early_stops_the_thread() -> None:
    produced: list[int] = []
    before = threading.active_count()
    with pytest.raises(RuntimeError), Prefetch(produced.append, range(1000)) as results:
        for _ in results:
            raise RuntimeError("the database refused the batch")
    assert threading.active_count() == before
    assert len(produced) < 5
