"""Every console list can be filtered and sorted, and its pages keep the filter."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from liucun.console.tests.conftest import TwoAccounts, logged_in
from liucun.crm.models import ImportJob, ImportStatus
from liucun.events.models import Event
from liucun.fans.models import SyncJob, SyncStatus
from liucun.staff.models import AuditEntry
from liucun.tags.models import BlacklistEntry, Tag

pytestmark = pytest.mark.django_db


def test_tags_sort_by_fans_and_filter_by_name(two_accounts: TwoAccounts) -> None:
    a = two_accounts.a
    Tag.objects.create(account=a, wechat_id=100, name="门店会员", fan_count=5)
    Tag.objects.create(account=a, wechat_id=101, name="抽奖用户", fan_count=50)
    Tag.objects.create(account=a, wechat_id=102, name="门店VIP", fan_count=20)
    client = logged_in(two_accounts.admin_a)
    url = reverse("console:tags", kwargs={"appid": a.appid})
    by_fans = client.get(url, {"ordering": "-fan_count"}).content.decode()
    assert by_fans.index("抽奖用户") < by_fans.index("门店VIP") < by_fans.index("门店会员")
    filtered = client.get(url, {"name": "门店"}).content.decode()
    assert "门店会员" in filtered and "门店VIP" in filtered and "抽奖用户" not in filtered
    nothing = client.get(url, {"name": "不存在"}).content.decode()
    assert "没有匹配的标签" in nothing
    assert client.get(url, {"ordering": "no-such-field"}).status_code == 200  # unknown sort: the default


def test_messages_filter_by_type_and_fan_and_keep_it_on_older_pages(two_accounts: TwoAccounts) -> None:
    a = two_accounts.a
    now = datetime.now(UTC)
    for i in range(90):
        Event.objects.create(
            account=a,
            openid="oTalker" if i % 2 else "oQuiet",
            kind="text" if i % 3 else "image",
            dedupe_key=f"m{i}",
            wechat_time=now - timedelta(minutes=i),
            received_at=now,
            payload={"Content": f"消息{i}"},
        )
    client = logged_in(two_accounts.admin_a)
    url = reverse("console:message-log", kwargs={"appid": a.appid})
    page = client.get(url, {"kind": "text", "openid": "oTalker"}).content.decode()
    assert "oQuiet" not in page
    # 45 from oTalker, 30 of them text: one page, no "older" link; 60 texts in all: two pages
    assert "before=" not in page
    everything = client.get(url).content.decode()
    assert "kind=" not in everything.split('class="pager"')[1]
    older = client.get(url, {"kind": "text"}).content.decode().split('class="pager"')[1]
    assert "kind=text" in older and "before=" in older


def test_audit_log_oldest_first(two_accounts: TwoAccounts) -> None:
    a = two_accounts.a
    for action in ["fans.remark", "tags.create", "fans.erase"]:
        AuditEntry.objects.create(account=a, actor_label="wang", action=action)
    client = logged_in(two_accounts.admin_a)
    url = reverse("console:audit", kwargs={"appid": a.appid})
    # Written without a user, these count as automatic entries: the "everyone" view lists them one by one.
    newest = client.get(url, {"who": "all"}).content.decode()
    oldest = client.get(url, {"who": "all", "ordering": "at"}).content.decode()
    assert newest.index("fans.erase") < newest.index("fans.remark")
    assert oldest.index("fans.remark") < oldest.index("fans.erase")


def test_blacklist_filter_and_sort(two_accounts: TwoAccounts) -> None:
    a = two_accounts.a
    for openid in ("oBad1", "oBad2", "oOther"):
        BlacklistEntry.objects.create(account=a, openid=openid)
    client = logged_in(two_accounts.admin_a)
    url = reverse("console:blacklist", kwargs={"appid": a.appid})
    page = client.get(url, {"openid": "oBad", "ordering": "-openid"}).content.decode()
    assert "oOther" not in page
    assert page.index("oBad2") < page.index("oBad1")


def test_job_histories_filter_by_status_and_page_with_the_filter(two_accounts: TwoAccounts) -> None:
    a = two_accounts.a
    for i in range(45):
        SyncJob.objects.create(account=a, status=SyncStatus.FAILED if i % 2 else SyncStatus.DONE)
    for i in range(23):
        ImportJob.objects.create(account=a, filename=f"会员{i:02d}.csv", status=ImportStatus.VALIDATED)
    client = logged_in(two_accounts.admin_a)
    syncs = reverse("console:sync", kwargs={"appid": a.appid})
    failed = client.get(syncs, {"status": "failed"}).content.decode()
    assert "1 / 2" in failed and "status=failed" in failed.split('class="pager"')[1]  # 22 failed, 20 a page
    oldest = client.get(syncs, {"ordering": "id"}).content.decode()
    newest = client.get(syncs).content.decode()
    first_id = SyncJob.objects.filter(account=a).order_by("id").first().pk  # type: ignore[union-attr]
    assert f'id="sync-{first_id}"' in oldest and f'id="sync-{first_id}"' not in newest
    imports = reverse("console:imports", kwargs={"appid": a.appid})
    second = client.get(imports, {"page": 2}).content.decode()  # the 21st to 23rd, newest first
    assert "会员02.csv" in second and "会员22.csv" not in second
    assert client.get(imports, {"status": "no-such-status"}).status_code == 200  # ignored, all shown
