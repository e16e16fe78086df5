"""Group commit: concurrent deliveries share transactions and each gets its own outcome."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from liucun.events.models import Event
from liucun.inbound import actions
from liucun.inbound.accounts_cache import get_callback_account
from liucun.inbound.groupcommit import GroupCommit
from liucun.testing.factories import make_account
from liucun.wechat.messages import parse_message


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    """Spin until `condition` holds; a bounded wait, so a regression fails instead of hanging the suite."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0)


def test_waiting_deliveries_are_batched_and_answered_in_order() -> None:
    release = threading.Event()
    batches: list[list[int]] = []

    def store(items):
        if not batches:
            release.wait(5)  # hold the first batch so the others queue up behind it
        batches.append(list(items))
        return [item * 10 for item in items]

    group: GroupCommit[int, int] = GroupCommit(store)
    with ThreadPoolExecutor(max_workers=20) as pool:
        first = pool.submit(group.submit, 0, 5)
        wait_until(lambda: group._leading is not False, "the first delivery to lead")
        rest = [pool.submit(group.submit, i, 5) for i in range(1, 20)]
        wait_until(lambda: len(group._pending) >= 19, "19 deliveries to queue behind the leader")
        release.set()
        assert first.result() == 0
        assert [f.result() for f in rest] == [i * 10 for i in range(1, 20)]
    assert batches[0] == [0]
    assert sorted(itertools.chain.from_iterable(batches[1:])) == list(range(1, 20))
    assert len(batches) < 20


def test_an_error_reaches_only_its_own_delivery() -> None:
    def store(items):
        return [ValueError(f"bad {i}") if i == 3 else i for i in items]

    group: GroupCommit[int, int] = GroupCommit(store)
    assert group.submit(1) == 1
    with pytest.raises(ValueError, match="bad 3"):
        group.submit(3)


@pytest.mark.django_db(transaction=True)
def test_many_threads_store_each_delivery_once() -> None:
    account = make_account(mode="safe")
    cached = get_callback_account(account.appid)
    assert cached is not None
    messages = [
        parse_message(
            f"<xml><ToUserName>{account.original_id}</ToUserName><FromUserName>o{i % 11}</FromUserName>"
            f"<CreateTime>1700000000</CreateTime><MsgType>text</MsgType><Content>hi</Content>"
            f"<MsgId>{1000 + i}</MsgId></xml>"
        )
        for i in range(200)
    ]
    before = actions._group_commit.batches

    def deliver(message):
        try:
            return actions.record_delivery(cached, message, timeout=10)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=12) as pool:
        outcomes = list(pool.map(deliver, messages + messages))
    assert Event.objects.filter(account=account).count() == 200
    assert sum(not o.duplicate for o in outcomes) == 200
    assert actions._group_commit.batches - before < 400
