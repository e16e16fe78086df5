"""Issue 13's exactness acceptance, against wxsim over HTTP: a live population delivers callbacks to
Liucun's real callback endpoint; Liucun's daily follows equal wxsim's ground truth; WeChat's statistics
(pulled from wxsim's datacube) reconcile with zero difference; dropped callbacks show on their days, and
after a follower sync are explained as found by it."""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from django.urls import reverse

from liucun.accounts.wechat_api import client_for
from liucun.analytics.periods import day_start, site_zone
from liucun.console.tests.conftest import logged_in, make_user, member
from liucun.fans.actions import start_follower_sync
from liucun.fans.models import SyncStatus
from liucun.fans.sync import run_sync
from liucun.readmodels import runner
from liucun.readmodels.daily_follows import DailyFollowsConsumer
from liucun.readmodels.models import DailyFollows
from liucun.readmodels.tests.support import ids_follow_on
from liucun.reconcile.pulling import run_pull
from liucun.staff.models import Role
from liucun.testing.factories import make_account_on_wxsim
from liucun.testing.live import running_server
from wxsim.control_client import WxsimControl, running_wxsim

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

HISTORY_DAYS = 6


def _china_day(ts: float) -> date:
    return datetime.fromtimestamp(ts, UTC).astimezone(site_zone()).date()


def _noon(day: date) -> datetime:
    return day_start(day) + timedelta(hours=12)


def _wait_for_history(control: WxsimControl, appid: str) -> dict[str, Any]:
    deadline = time.monotonic() + 240
    status: dict[str, Any] = {}
    while time.monotonic() < deadline:
        status = control.population(appid)
        if status["phase"] in ("stopped", "failed"):
            return status
        time.sleep(0.5)
    raise AssertionError(f"population still running: {status}")


def _truth_table(truth: list[dict[str, Any]]) -> dict[tuple[date, str], dict[str, int]]:
    """What daily follows must hold, computed from wxsim's ground truth alone."""
    table: dict[tuple[date, str], Counter[str]] = {}
    seen: set[str] = set()
    channel: dict[str, str] = {}
    for t in sorted(truth, key=lambda t: t["time"]):
        day, openid = _china_day(t["time"]), t["openid"]
        if t["event"] == "follow":
            channel[openid] = t["scene"]
            column = "refollows" if openid in seen else "follows"
        else:
            column = "unfollows"
        table.setdefault((day, channel.get(openid, "")), Counter())[column] += 1
        seen.add(openid)
    return {k: {c: v[c] for c in ("follows", "refollows", "unfollows")} for k, v in table.items()}


def _ours(account: Any) -> dict[tuple[date, str], dict[str, int]]:
    return {
        (r.day, r.channel): {"follows": r.follows, "refollows": r.refollows, "unfollows": r.unfollows}
        for r in DailyFollows.objects.filter(account=account)
    }


def _report(client: Any, account: Any, start: date, end: date) -> dict[str, dict[str, Any]]:
    answer = client.get(
        reverse("api:report_reconciliation", args=[account.appid]),
        {"start": start.isoformat(), "end": end.isoformat()},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert answer.status_code == 200, answer.content
    return {row["day"]: row for row in answer.json()["rows"]}


def _catch_up() -> None:
    # Ids burnt by duplicate deliveries are gaps a consumer waits out (on PostgreSQL a gap settles on the
    # run after it was seen); here every writer is done, so no grace is needed.
    for _ in range(3):
        if not runner.run(DailyFollowsConsumer(), grace=timedelta(0)).waiting_on_gap:
            return
    raise AssertionError("daily follows still wait on a gap")


def test_daily_follows_equal_the_ground_truth_and_reconcile_with_wechat_to_the_lost_callback() -> None:
    ids_follow_on()
    with running_wxsim(seed=51) as wxsim_url, running_server(workers=1, start_within=180) as liucun_url:
        control = WxsimControl(wxsim_url)
        account = make_account_on_wxsim(control, callback_url=liucun_url + "/wechat/{appid}/callback")
        control.start_population(
            account.appid,
            scenario="demo",
            seed=51,
            history_days=HISTORY_DAYS,
            history_start=int(time.time()) - HISTORY_DAYS * 86400,
        )
        status = _wait_for_history(control, account.appid)
        assert status["phase"] == "stopped" and status["failed_deliveries"] == 0, status
        _catch_up()

        # (a) Daily follows, refollows and unfollows per China day and channel equal the ground truth.
        truth = control.truth(account.appid)
        assert sum(1 for t in truth if t["event"] == "unfollow") > 0
        assert len({t["scene"] for t in truth}) > 2
        assert _ours(account) == _truth_table(truth)

        # (b) WeChat's statistics up to the day before `lost` reconcile with no difference on any day.
        today = datetime.now(UTC).astimezone(site_zone()).date()
        lost_day = today - timedelta(days=2)
        first = _china_day(min(t["time"] for t in truth))
        assert run_pull(account.pk, now=_noon(lost_day), back_days=HISTORY_DAYS + 2).status == "idle"
        operator = logged_in(member(make_user("op"), account, Role.OPERATOR))
        rows = _report(operator, account, first, lost_day - timedelta(days=1))
        assert len(rows) == (lost_day - first).days >= 3
        assert {r["status"] for r in rows.values()} == {"match"}
        assert {
            (r["new_difference"], r["unfollow_difference"], r["cumulate_difference"]) for r in rows.values()
        } == {(0, 0, 0)}

        # (c) WeChat loses callbacks on `lost_day`: 3 unfollows and 2 follows (one through a QR code).
        at = _noon(lost_day).timestamp()
        last_action = {t["openid"]: t for t in sorted(truth, key=lambda t: t["time"])}
        quiet = [o for o, t in last_action.items() if t["event"] == "follow" and t["time"] < at - 3600][:3]
        assert len(quiet) == 3
        for openid in quiet:
            control.act(account.appid, "unfollow", openid, at=at, reason="lost", drop_callback=True)
        control.act(
            account.appid,
            "follow",
            "oLostFollowQr0000000000001",
            at=at + 60,
            scene="store_001",
            drop_callback=True,
        )
        control.act(account.appid, "follow", "oLostFollow00000000000002", at=at + 120, drop_callback=True)
        assert run_pull(account.pk, now=_noon(today)).status == "idle"
        rows = _report(operator, account, lost_day, today)
        lost = rows[lost_day.isoformat()]
        day_before = truth_day_counts(truth, lost_day)
        assert (lost["wechat_new"], lost["liucun_new"]) == (day_before["new"] + 2, day_before["new"])
        assert (lost["wechat_unfollows"], lost["liucun_unfollows"]) == (
            day_before["unfollows"] + 3,
            day_before["unfollows"],
        )
        assert (lost["new_difference"], lost["unfollow_difference"], lost["cumulate_difference"]) == (
            2,
            3,
            -1,
        )
        assert (lost["status"], lost["found_by_sync"]) == ("lost", 0)
        assert lost["explanation"] == (
            "WeChat counted 2 more follows than Liucun received: callbacks lost; no follower sync has "
            "found them yet. WeChat counted 3 more unfollows than Liucun received: callbacks lost; 3 not "
            "found by a sync yet."
        )
        yesterday = rows[(today - timedelta(days=1)).isoformat()]
        assert (yesterday["new_difference"], yesterday["unfollow_difference"]) == (0, 0)
        assert (yesterday["cumulate_difference"], yesterday["status"]) == (-1, "lost")
        assert rows[today.isoformat()]["status"] == "not_published"

        # A follower sync finds both: the fans gone (dated today, the sync's day) and the fans who came.
        client = client_for(account)
        job = start_follower_sync("test", account)
        run_sync(job, client)
        client.close()
        job.refresh_from_db()
        assert (job.status, job.reconciled_unfollows, job.created_fans) == (SyncStatus.DONE, 3, 2)
        _catch_up()
        assert run_pull(account.pk, now=_noon(today)).status == "idle"  # counts the sync's finds
        rows = _report(operator, account, lost_day, today)
        lost = rows[lost_day.isoformat()]
        assert (lost["new_difference"], lost["unfollow_difference"]) == (2, 3)
        assert (lost["status"], lost["found_by_sync"], lost["cumulate_difference"]) == ("found", 5, -3)
        assert lost["explanation"] == (
            "WeChat counted 2 more follows than Liucun received: callbacks lost; the follower sync found 2 "
            "of these fans. WeChat counted 3 more unfollows than Liucun received: callbacks lost; the "
            f"follower sync of {today.isoformat()} found 3."
        )
        assert rows[today.isoformat()]["reconciled_unfollows"] == 3


def truth_day_counts(truth: list[dict[str, Any]], day: date) -> dict[str, int]:
    """Follows and unfollows of the ground truth on a day, before the dropped ones were added."""
    events = [t for t in truth if _china_day(t["time"]) == day]
    return {
        "new": sum(1 for t in events if t["event"] == "follow"),
        "unfollows": sum(1 for t in events if t["event"] == "unfollow"),
    }
