"""Exactly once against wxsim's recorder: a double click, a retried job, two concurrent sends with one key
and a worker killed mid-send each reach the fan once; failures are retried only when WeChat did not take
the message."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import close_old_connections

from liucun.jobs.models import stalled_after
from liucun.outbound import actions
from liucun.outbound.models import OutboundMessage, Status
from liucun.outbound.tests.conftest import Scene
from liucun.outbound.tests.helpers import queued_deliveries, run_deliveries

pytestmark = pytest.mark.django_db(transaction=True)

HELLO = {"msgtype": "text", "text": {"content": "您好，我们已收到您的问题"}}


class WorkerKilled(BaseException):
    """Where a worker would be killed: no `except Exception` sees it, nothing else is recorded."""


def _eventually(read: Callable[[], list[Any]], deadline: float = 10.0) -> list[Any]:
    """What `read` gives once it gives something: wxsim finishes the paused request on its own thread."""
    give_up = time.monotonic() + deadline
    while not (seen := read()) and time.monotonic() < give_up:
        time.sleep(0.05)
    return seen


def _queue(scene: Scene, key: str = "composer-1", source: str = "rule") -> OutboundMessage:
    return actions.queue_message(
        account_id=scene.account.pk, openid=scene.openid, content=HELLO, key=key, source=source
    )


def test_double_click_is_one_row_and_one_delivery(scene: Scene) -> None:
    first = _queue(scene)
    second = _queue(scene)
    assert second.pk == first.pk
    assert OutboundMessage.objects.filter(account=scene.account).count() == 1
    assert queued_deliveries() == [first.pk]
    assert run_deliveries() == ["sent"]
    assert scene.received() == [HELLO]
    first.refresh_from_db()
    assert (first.status, first.attempt, first.errcode, first.error) == (Status.SENT, 1, None, "")
    assert first.sent_at is not None


def test_a_retried_job_does_not_send_again(scene: Scene) -> None:
    message = _queue(scene)
    assert actions.send_now(message.pk).status == Status.SENT
    assert actions.send_now(message.pk).status == Status.SENT
    assert run_deliveries() == ["sent"]
    assert scene.received() == [HELLO]
    message.refresh_from_db()
    assert message.attempt == 1


def test_two_agents_sending_with_one_key_deliver_once(scene: Scene) -> None:
    start = threading.Barrier(2)
    results: list[int] = []
    errors: list[BaseException] = []

    def agent() -> None:
        try:
            start.wait()
            message = _queue(scene, key="shared-composer", source="system")
            results.append(actions.send_now(message.pk).pk)
        except BaseException as exc:
            errors.append(exc)
        finally:
            close_old_connections()

    threads = [threading.Thread(target=agent) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(set(results)) == 1
    run_deliveries()
    assert OutboundMessage.objects.filter(account=scene.account).count() == 1
    assert scene.received() == [HELLO]


def test_a_worker_killed_mid_send_is_unknown_and_never_resent(
    scene: Scene, monkeypatch: pytest.MonkeyPatch
) -> None:
    message = _queue(scene)
    real_call = actions._call_wechat

    def call_then_die(*args: object) -> None:
        real_call(*args)  # WeChat takes the message ...
        raise WorkerKilled  # ... and the worker dies before recording it

    monkeypatch.setattr(actions, "_call_wechat", call_then_die)
    with pytest.raises(WorkerKilled):
        run_deliveries()
    monkeypatch.undo()
    # The dead worker's row: claimed, no outcome. Our own handler marked it unknown on the way out; a
    # SIGKILL would not have, so put it back as a killed process leaves it.
    OutboundMessage.objects.filter(pk=message.pk).update(status=Status.SENDING, error="")

    assert actions.mark_stalled() == 0  # not stalled yet: the worker might still be waiting on WeChat
    later = datetime.now(UTC) + stalled_after() + timedelta(seconds=1)
    assert actions.mark_stalled(now=later) == 1
    assert actions.requeue_lost(now=later) == 0
    assert actions.send_now(message.pk).status == Status.UNKNOWN
    run_deliveries()
    message.refresh_from_db()
    assert message.status == Status.UNKNOWN
    assert "may or may not have reached the fan" in message.error
    assert scene.received() == [HELLO]

    # The operator decides to send it again: a new row under a new key, delivered once more.
    again = actions.send_again(message.pk, key="resend-1")
    assert again.pk != message.pk
    run_deliveries()
    assert scene.received() == [HELLO, HELLO]


def test_a_lost_task_is_enqueued_again_and_delivers_once(scene: Scene) -> None:
    message = _queue(scene)
    from django_tasks_db.models import DBTaskResult

    DBTaskResult.objects.all().delete()  # the task was lost
    assert actions.requeue_lost() == 0  # queued a moment ago: its task may simply not have run yet
    later = datetime.now(UTC) + actions.LOST_AFTER + timedelta(seconds=1)
    assert actions.requeue_lost(now=later) == 1
    assert actions.requeue_lost(now=later) == 0  # enqueued again just now
    assert queued_deliveries() == [message.pk]
    assert run_deliveries() == ["sent"]
    assert scene.received() == [HELLO]


def test_busy_is_retried_because_wechat_did_not_take_it(scene: Scene) -> None:
    scene.control.faults(
        scene.account.appid, script=[{"path": "/cgi-bin/message/custom/send", "errcode": -1}]
    )
    message = _queue(scene)
    assert run_deliveries() == ["queued"]
    message.refresh_from_db()
    assert (message.status, message.attempt, message.errcode) == (Status.QUEUED, 1, -1)
    assert "busy" in message.error
    assert scene.received() == []
    assert run_deliveries() == ["sent"]
    assert scene.received() == [HELLO]


def test_a_server_error_may_have_delivered_so_it_is_unknown(scene: Scene) -> None:
    scene.control.faults(
        scene.account.appid, script=[{"path": "/cgi-bin/message/custom/send", "status": 503}]
    )
    message = _queue(scene)
    assert run_deliveries() == ["unknown"]
    assert run_deliveries() == []
    message.refresh_from_db()
    assert message.status == Status.UNKNOWN
    assert scene.received() == []


def test_a_timeout_is_unknown_even_when_wechat_delivered(
    scene: Scene, settings: pytest.FixtureRequest
) -> None:
    settings.LIUCUN_WECHAT_TIMEOUT = 0.3  # type: ignore[attr-defined]
    scene.control.faults(scene.account.appid, script=[{"path": "/cgi-bin/message/custom/send", "sleep": 0.6}])
    message = _queue(scene)
    assert run_deliveries() == ["unknown"]
    message.refresh_from_db()
    assert message.errcode is None
    # wxsim went on after the pause: the fan has the message although Liucun never got the answer.
    assert _eventually(scene.received) == [HELLO]
    assert run_deliveries() == []
    assert scene.received() == [HELLO]


def test_the_periodic_pass_runs_only_when_sends_are_pending(scene: Scene) -> None:
    from liucun.outbound.periodic import PERIODIC
    from liucun.outbound.tasks import sweep

    (periodic,) = PERIODIC
    assert periodic.enqueue() == 0
    message = _queue(scene)
    assert periodic.enqueue() == 1
    OutboundMessage.objects.filter(pk=message.pk).update(
        status=Status.SENDING, attempted_at=datetime.now(UTC) - stalled_after() - timedelta(seconds=1)
    )
    assert sweep.call() == {"unknown": 1, "requeued": 0}
    assert periodic.enqueue() == 0
