"""The periodic schedule finds work from stored state and enqueues it once, whoever ticks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django_tasks_db.models import DBTaskResult

from liucun.fans.models import Fan
from liucun.fans.tasks import refresh_new_fan_profiles
from liucun.runner.scheduler import tick
from liucun.testing.factories import make_account
from wxsim.control_client import WxsimControl, running_wxsim

pytestmark = pytest.mark.django_db


def test_new_fans_get_their_profile_read_in_batches() -> None:
    with running_wxsim(seed=4) as url:
        account = make_account(api_base_url=url)
        control = WxsimControl(url)
        control.add_account(
            appid=account.appid,
            secret=account.secret,
            token=account.token,
            encoding_aes_key=account.encoding_aes_key,
            original_id=account.original_id,
        )
        openids = control.add_fans(account.appid, count=150, scene="store_9")
        for openid in openids:
            Fan.objects.create(account=account, openid=openid, is_following=True)
        Fan.objects.create(account=account, openid="oGone", is_following=False)
        now = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
        assert tick(now)["refresh-new-fan-profiles"] == 1
        assert "refresh-new-fan-profiles" not in tick(now + timedelta(seconds=10))  # not due again yet
        assert DBTaskResult.objects.filter(task_path__endswith="refresh_new_fan_profiles").count() == 1
        assert refresh_new_fan_profiles.call(account.pk) == 150  # two batchget calls: 100 + 50
        fan = Fan.objects.get(account=account, openid=openids[7])
        truth = next(f for f in control.fans(account.appid) if f["openid"] == openids[7])
        assert fan.unionid == truth["unionid"] and fan.subscribe_scene == "ADD_SCENE_QR_CODE"
        assert fan.profile_refreshed_at is not None
        assert refresh_new_fan_profiles.call(account.pk) == 0  # idempotent: nothing left to read
        assert tick(now + timedelta(seconds=31))["refresh-new-fan-profiles"] == 0  # none left to read


def test_unverified_accounts_are_not_asked() -> None:
    account = make_account(account_type="subscription", verified=False)
    Fan.objects.create(account=account, openid="o1", is_following=True)
    assert refresh_new_fan_profiles.call(account.pk) == 0


def test_stalled_syncs_are_resumed_and_scheduled_syncs_started() -> None:
    from liucun.accounts.actions import update_account
    from liucun.fans.models import SyncJob, SyncStatus

    quiet = make_account()
    hourly = update_account(make_account(), sync_every_hours=1)
    stalled = SyncJob.objects.create(
        account=quiet, status=SyncStatus.RUNNING, heartbeat_at=datetime.now(UTC) - timedelta(minutes=10)
    )
    before = DBTaskResult.objects.count()
    done = tick(datetime.now(UTC) + timedelta(days=1))
    assert done["resume-stalled-jobs"] == 1 and done["scheduled-follower-syncs"] == 1
    assert SyncJob.objects.filter(account=hourly, status=SyncStatus.QUEUED).count() == 1
    assert not SyncJob.objects.filter(account=quiet).exclude(pk=stalled.pk).exists()
    assert DBTaskResult.objects.count() - before >= 2  # the resumed job and the new one


def test_each_app_brings_its_own_periodic_work() -> None:
    from liucun.runner.scheduler import collect_schedule

    names = [p.name for p in collect_schedule()]
    assert {
        "privacy-erase-after-unfollow",
        "refresh-new-fan-profiles",
        "scheduled-follower-syncs",
        "drop-stale-uploads",
        "resume-stalled-jobs",
    } <= set(names)
    assert len(names) == len(set(names))
    # In INSTALLED_APPS order: crm before fans before jobs.
    assert names.index("drop-stale-uploads") < names.index("refresh-new-fan-profiles")
    assert names.index("refresh-new-fan-profiles") < names.index("resume-stalled-jobs")


def test_two_periodic_jobs_with_one_name_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from django.core.exceptions import ImproperlyConfigured

    from liucun.crm import periodic as crm_periodic
    from liucun.runner.scheduler import Periodic, collect_schedule

    twin = Periodic("scheduled-follower-syncs", timedelta(minutes=1), lambda: 0)
    monkeypatch.setattr(crm_periodic, "PERIODIC", [*crm_periodic.PERIODIC, twin])
    with pytest.raises(ImproperlyConfigured, match="share a name"):
        collect_schedule()
