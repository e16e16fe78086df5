"""The bulk path of `liucun import-history` stores exactly what the per-event path stores.

Each comparison imports one file both ways into the same account, the first time inside a transaction
that is rolled back, and compares every stored column except ids, the time of receipt and the fans'
row timestamps.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from django.core.management import call_command
from django.db import connection, transaction

from liucun.accounts.models import OfficialAccount
from liucun.events.models import Event
from liucun.fans.models import Fan
from liucun.inbound.accounts_cache import CallbackAccount, get_callback_account
from liucun.inbound.actions import Delivery, store_deliveries
from liucun.inbound.history_bulk import BulkImport, BulkRefused, bulk_import, sql_time
from liucun.inbound.history_import import HistoryFile, import_history
from liucun.rawsql import Sql
from liucun.tags.models import FanTag, Tag
from liucun.testing.factories import make_account
from liucun.wechat.messages import message_from_fields
from wxsim.population.bulk import generate, write
from wxsim.population.scenario import DEMO

pytestmark = pytest.mark.django_db

START = 1_700_000_000
# Every column but id and received_at.
_EVENT_COLUMNS = "openid, kind, dedupe_key, wechat_time, source, payload, reply, rule_id, handoff"
_FAN_SKIP = {"id", "account_id", "created_at", "updated_at"}


def _generated(tmp_path: Path, account: OfficialAccount, fans: int = 300, days: int = 45) -> Path:
    header, arrays = generate(
        DEMO, appid=account.appid, original_id=account.original_id, seed=8, fans=fans, days=days, start=START
    )
    path = tmp_path / "history.bin"
    write(path, header, arrays)
    return path


def _handmade(tmp_path: Path, account: OfficialAccount) -> Path:
    """A few fans with the awkward cases: two clicks in one second (one dedupe key), a follow twice,
    an unfollow with no follow before it, two unfollows in a row, a fan who only writes."""
    header, arrays = generate(
        DEMO, appid=account.appid, original_id=account.original_id, seed=3, fans=5, days=2, start=START
    )
    records = [  # (seconds after START, fan, kind, detail)
        (10, 0, 0, 1),
        (20, 0, 3, 0),
        (20, 0, 3, 1),  # same second, same event: the same dedupe key as the one before
        (20, 0, 4, 0),
        (30, 1, 1, 0),  # unfollow, never seen following
        (40, 1, 1, 0),
        (50, 2, 0, 0),
        (60, 2, 0, 2),  # follows again while following
        (70, 2, 2, 3),
        (70, 2, 2, 3),  # the same question twice in a second: two messages (their own MsgIds)
        (80, 3, 5, 0),
        (90, 2, 1, 0),
        (95, 2, 1, 0),
        (99, 4, 4, 0),
    ]
    columns = list(zip(*records, strict=True))
    path = tmp_path / "handmade.bin"
    write(
        path,
        {**header, "events": len(records)},
        {
            "time": np.array(columns[0], np.int64) + START,
            "fan": np.array(columns[1], np.int32),
            "kind": np.array(columns[2], np.int8),
            "detail": np.array(columns[3], np.int16),
            "openid": arrays["openid"],
        },
    )
    return path


def _snapshot(account: OfficialAccount) -> dict[str, Any]:
    """Everything the import stores for `account`, as the database holds it (raw values, not the ORM's)."""
    cursor = Sql(connection).cursor()
    try:
        cursor.execute(f"SELECT {_EVENT_COLUMNS} FROM events_event WHERE account_id = {account.pk}")
        events = sorted(cursor.fetchall(), key=lambda row: row[2])
        cursor.execute(f"SELECT * FROM fans_fan WHERE account_id = {account.pk}")
        names = [column[0] for column in cursor.description]
        fans = sorted(
            (
                {k: v for k, v in zip(names, row, strict=True) if k not in _FAN_SKIP}
                for row in cursor.fetchall()
            ),
            key=lambda fan: fan["openid"],
        )
        cursor.execute(
            "SELECT f.openid, p.followed_at, p.unfollowed_at, p.channel, p.follow_source, p.unfollow_source "
            "FROM fans_followperiod p JOIN fans_fan f ON f.id = p.fan_id "
            f"WHERE p.account_id = {account.pk}"
        )
        periods = sorted(cursor.fetchall(), key=repr)
    finally:
        cursor.close()
    return {"events": events, "fans": fans, "periods": periods}


def _rolled_back(work: Callable[[], Any], account: OfficialAccount) -> dict[str, Any]:
    with transaction.atomic():
        work()
        snapshot = _snapshot(account)
        transaction.set_rollback(True)
    assert not Event.objects.filter(account=account).exists()
    return snapshot


def _per_event(path: Path, account: CallbackAccount) -> None:
    history = HistoryFile(path)
    try:
        stats = import_history(history, account)
    finally:
        history.close()
    assert stats.failed == 0


def _bulk(path: Path, account: CallbackAccount, **options: Any) -> Any:
    history = HistoryFile(path)
    try:
        return bulk_import(history, account, **options)
    finally:
        history.close()


def _same(first: dict[str, Any], second: dict[str, Any]) -> None:
    assert second["events"] == first["events"]
    assert second["fans"] == first["fans"]
    assert second["periods"] == first["periods"]


def _callback(account: CallbackAccount, fields: dict[str, str]) -> None:
    message = message_from_fields({"ToUserName": account.original_id, **fields})
    [outcome] = store_deliveries([Delivery(account, message, datetime.now(UTC))])
    assert not isinstance(outcome, BaseException)


def test_sql_time_is_what_the_sqlite_backend_stores() -> None:
    sql = Sql(connection)
    for seconds in (0, 59, 86399, 86400, START, START + 12345, 2_000_000_000):
        at = datetime.fromtimestamp(seconds, tz=UTC)
        assert sql_time(seconds) == str(at.replace(tzinfo=None))
        if not sql.postgres:
            assert sql_time(seconds) == sql.dt(at)


def test_bulk_stores_exactly_what_the_per_event_path_stores(tmp_path: Path) -> None:
    account = make_account(mode="safe", welcome_text="")
    path = _generated(tmp_path, account, fans=600, days=120)
    callback_account = get_callback_account(account.appid)
    assert callback_account is not None
    reference = _rolled_back(lambda: _per_event(path, callback_account), account)
    history = HistoryFile(path)
    total = history.events
    history.close()
    # One batch for the whole file and batches that cut it at an awkward place: each gives the reference
    # (the reference is computed once: the per-event path is the slow one, on PostgreSQL most of all).
    for batch in (None, 997):
        done: dict[str, Any] = {}
        bulk = _rolled_back(lambda: done.update(stats=_bulk(path, callback_account, batch=batch)), account)  # noqa: B023
        _same(reference, bulk)
        stats = done["stats"]
        assert len(bulk["events"]) == total > 5000
        assert stats.events == total
        assert stats.stored == total
        assert stats.fans_created == len(bulk["fans"]) == 600
        assert {row[4] for row in bulk["events"]} == {"import"}
        # The file exercises what matters: unfollows, refollows, several kinds.
        assert sum(fan["unfollow_count"] for fan in bulk["fans"]) > 10
        assert max(fan["follow_count"] for fan in bulk["fans"]) >= 2
        assert {row[1] for row in bulk["events"]} == {
            "event.subscribe",
            "event.unsubscribe",
            "text",
            "event.click",
            "event.view",
        }


def test_awkward_histories_come_out_the_same(tmp_path: Path) -> None:
    account = make_account(mode="safe", welcome_text="")
    path = _handmade(tmp_path, account)
    callback_account = get_callback_account(account.appid)
    assert callback_account is not None
    reference = _rolled_back(lambda: _per_event(path, callback_account), account)
    stats = _bulk(path, callback_account)
    bulk = _snapshot(account)
    _same(reference, bulk)
    assert (stats.events, stats.stored, stats.duplicates) == (14, 13, 1)
    assert (
        len(bulk["periods"]) == 5
    )  # fan 0: open; 1: two with no start; 2: one closed, one no start; 4: none


def test_rerun_and_interrupted_run_are_safe(tmp_path: Path) -> None:
    account = make_account(mode="safe", welcome_text="")
    path = _generated(tmp_path, account, fans=120, days=30)
    callback_account = get_callback_account(account.appid)
    assert callback_account is not None
    reference = _rolled_back(lambda: _per_event(path, callback_account), account)

    class Interrupted(BulkImport):
        def _store_fans(self) -> None:
            raise KeyboardInterrupt

    history = HistoryFile(path)
    with pytest.raises(KeyboardInterrupt):
        Interrupted(history, callback_account, batch=500).run()
    history.close()
    assert Event.objects.filter(account=account).count() == len(reference["events"])
    assert not Fan.objects.filter(account=account).exists()

    stats = _bulk(path, callback_account)  # completes the interrupted run
    assert stats.stored == 0
    _same(reference, _snapshot(account))

    class Straight(BulkImport):
        def _account_has_events(self) -> bool:
            return False  # PostgreSQL: COPY straight into the table, meets the stored keys, falls back

    history = HistoryFile(path)
    again = Straight(history, callback_account).run()  # and again: every event and fan known
    history.close()
    assert (again.stored, again.fans_created) == (0, 0)
    assert again.duplicates == again.events == len(reference["events"])
    _same(reference, _snapshot(account))


def test_an_account_with_live_fans_gets_the_per_event_result(tmp_path: Path) -> None:
    account = make_account(mode="safe", welcome_text="")
    path = _generated(tmp_path, account, fans=150, days=30)
    callback_account = get_callback_account(account.appid)
    assert callback_account is not None
    history = HistoryFile(path)
    first = {history.openid(history.fan[i]): history.fields(i) for i in range(history.events - 1, -1, -1)}
    end = int(history.time[history.events - 1])
    leaving = sorted({history.openid(history.fan[i]) for i in range(history.events) if history.kind[i] == 1})
    history.close()
    # Fans who leave in the imported history lose the tags they were given live; the others keep them.
    some = leaving[:3] + [openid for openid in sorted(first) if openid not in leaving][:3]
    assert len(some) == 6
    tag = Tag.objects.create(account=account, wechat_id=101, name="VIP", fan_count=0)

    def live() -> None:
        for n, openid in enumerate(some):
            _callback(callback_account, first[openid])  # the fan's first record in the file, live
            _callback(
                callback_account,
                {
                    "FromUserName": openid,
                    "CreateTime": str(end + 60),
                    "MsgType": "text",
                    "Content": "在吗",
                    "MsgId": str(9_000_000 + n),
                },
            )
        _callback(
            callback_account,
            {
                "FromUserName": "o_not_in_the_file_0000000000",
                "CreateTime": str(START),
                "MsgType": "event",
                "Event": "subscribe",
                "EventKey": "",
            },
        )
        for fan in Fan.objects.filter(account=account, openid__in=some, is_following=True):
            FanTag.objects.create(tag=tag, fan=fan)

    def per_event() -> None:
        live()
        _per_event(path, callback_account)

    reference = _rolled_back(per_event, account)
    reference_tags = None
    with transaction.atomic():
        per_event()
        reference_tags = sorted(FanTag.objects.filter(tag=tag).values_list("fan__openid", flat=True))
        transaction.set_rollback(True)
    live()
    stats = _bulk(path, callback_account)
    _same(reference, _snapshot(account))
    assert stats.per_event > 0
    assert stats.fans_created == 150 - len(some)
    assert sorted(FanTag.objects.filter(tag=tag).values_list("fan__openid", flat=True)) == reference_tags
    assert reference_tags == sorted(some[3:])


def test_a_fan_created_by_a_callback_during_the_import(tmp_path: Path) -> None:
    account = make_account(mode="safe", welcome_text="")
    path = _generated(tmp_path, account, fans=80, days=20)
    callback_account = get_callback_account(account.appid)
    assert callback_account is not None
    history = HistoryFile(path)
    openid = history.openid(history.fan[history.events - 1])
    history.close()
    ping = {
        "FromUserName": openid,
        "CreateTime": str(START + 5),
        "MsgType": "text",
        "Content": "hi",
        "MsgId": "77",
    }

    def callback_then_import() -> None:
        _callback(callback_account, ping)
        _per_event(path, callback_account)

    reference = _rolled_back(callback_then_import, account)

    class CallbackMeanwhile(BulkImport):
        def _store_fans(self) -> None:
            _callback(callback_account, ping)
            super()._store_fans()

    history = HistoryFile(path)
    stats = CallbackMeanwhile(history, callback_account).run()
    history.close()
    assert stats.fans_late == 1
    _same(reference, _snapshot(account))


@pytest.mark.django_db(transaction=True)
def test_command_reports_progress_and_catches_up_read_models(tmp_path: Path, capsys, monkeypatch) -> None:
    from liucun.readmodels import pace, runner
    from liucun.readmodels.models import DailyFollows

    # Ids burnt by earlier tests leave a gap on PostgreSQL; without the grace it settles at once.
    monkeypatch.setattr(runner, "run", functools.partial(runner.run, grace=timedelta(0)))
    monkeypatch.setattr(runner, "GAP_GRACE", timedelta(0))
    monkeypatch.setattr(pace, "CATCH_UP_FLOOR", 100)  # this file's few thousand events count as far
    account = make_account(mode="safe")
    path = _generated(tmp_path, account, fans=100, days=20)
    call_command("import_history", str(path))
    out = capsys.readouterr().out
    assert "events/s" in out
    assert "ETA" in out
    assert "(100%)" in out
    assert "read models caught up in" in out
    # A history bigger than the store was: rebuilt set-based, not folded in batch by batch.
    assert "read model daily-follows: far behind: rebuilt set-based up to event" in out
    history = HistoryFile(path)
    follows = sum(1 for i in range(history.events) if history.kind[i] == 0)
    history.close()
    counted = DailyFollows.objects.filter(account=account)
    assert sum(row.follows + row.refollows for row in counted) == follows
    # Again: nothing new is stored, so the read models are caught up the incremental way, unchanged.
    call_command("import_history", str(path))
    again = capsys.readouterr().out
    assert "far behind" not in again
    assert "read models caught up in" in again
    assert sum(row.follows + row.refollows for row in DailyFollows.objects.filter(account=account)) == follows


def test_a_file_whose_openids_need_escaping_is_refused_before_anything_is_stored(tmp_path: Path) -> None:
    # Openids go into COPY lines and JSON text as they are: one with a quote or a tab would corrupt rows.
    account = make_account(mode="safe", welcome_text="")
    header, arrays = generate(
        DEMO, appid=account.appid, original_id=account.original_id, seed=3, fans=3, days=2, start=START
    )
    openids = arrays["openid"].copy()
    openids[1, 5] = ord('"')
    path = tmp_path / "odd.bin"
    write(path, header, {**arrays, "openid": openids})
    callback_account = get_callback_account(account.appid)
    assert callback_account is not None
    with pytest.raises(BulkRefused, match="openid"):
        _bulk(path, callback_account)
    assert not Event.objects.filter(account=account).exists()
