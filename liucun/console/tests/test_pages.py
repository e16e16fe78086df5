"""Console pages as an operator uses them: login, lists, the fan page, sync, settings and the audit log."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from liucun.console.tests.conftest import PASSWORD, TwoAccounts, logged_in, make_user
from liucun.fans.models import SyncJob, SyncStatus
from liucun.staff.models import AuditEntry, LoginFailure, Membership
from liucun.testing.factories import make_account

pytestmark = pytest.mark.django_db


def test_login_then_the_account_list() -> None:
    make_user("wang")
    client = Client()
    page = client.get(reverse("console:home"))
    assert page.status_code == 302 and page["Location"].startswith("/login/")
    answer = client.post(reverse("console:login"), {"username": "wang", "password": PASSWORD})
    assert answer.status_code == 302
    home = client.get(reverse("console:home"))
    assert "还没有" in home.content.decode()  # no role anywhere yet, said in Chinese by default


@override_settings(LIUCUN_LOGIN_MAX_FAILURES=3)
def test_logins_are_throttled_after_repeated_failures() -> None:
    make_user("li")
    client = Client()
    for _ in range(3):
        bad = client.post(reverse("console:login"), {"username": "li", "password": "wrong"})
        assert bad.status_code == 200
    locked = client.post(reverse("console:login"), {"username": "li", "password": PASSWORD})
    assert locked.status_code == 429
    assert "_auth_user_id" not in client.session
    assert LoginFailure.objects.filter(username="li").count() == 3
    LoginFailure.objects.all().delete()  # the window passes
    assert client.post(reverse("console:login"), {"username": "li", "password": PASSWORD}).status_code == 302


def test_login_refuses_an_offsite_next() -> None:
    make_user("zhao")
    answer = Client().post(
        reverse("console:login"), {"username": "zhao", "password": PASSWORD, "next": "https://evil.example/"}
    )
    assert answer["Location"] == reverse("console:home")


def test_english_switch(two_accounts: TwoAccounts) -> None:
    client = logged_in(two_accounts.admin_a)
    url = reverse("console:fans", kwargs={"appid": two_accounts.a.appid})
    assert "粉丝" in client.get(url).content.decode()
    client.post(reverse("set_language"), {"language": "en", "next": url})
    assert ">Fans<" in client.get(url).content.decode()


def test_overview_has_chart_data(two_accounts: TwoAccounts) -> None:
    client = logged_in(two_accounts.admin_a)
    page = client.get(reverse("console:overview", kwargs={"appid": two_accounts.a.appid}))
    body = page.content.decode()
    assert page.status_code == 200
    assert 'id="follow-series"' in body and "vendor/echarts/echarts.min.js" in body


def test_fan_list_filters_sorts_and_pages(two_accounts: TwoAccounts) -> None:
    client = logged_in(two_accounts.admin_a)
    url = reverse("console:fans", kwargs={"appid": two_accounts.a.appid})
    following = client.get(url, {"following": "1", "ordering": "followed_at"})
    rows = following.context["page"].object_list
    assert [f.is_following for f in rows] == [True] * 4
    assert [f.followed_at for f in rows] == sorted(f.followed_at for f in rows)
    paged = client.get(url, {"page_size": "20", "channel": "store_1"})
    assert {f.channel for f in paged.context["page"].object_list} == {"store_1"}
    partial = client.get(url, {"window_open": "1"}, HTTP_HX_REQUEST="true")
    assert "<html" not in partial.content.decode()
    bad = client.get(url, {"followed_after": "not a date"})
    assert bad.status_code == 200 and bad.context["page"] is None


def test_fan_page_shows_profile_and_timeline(two_accounts: TwoAccounts) -> None:
    t = two_accounts
    fan = t.a.fans.order_by("id").first()
    assert fan is not None
    client = logged_in(t.admin_a)
    page = client.get(reverse("console:fan", kwargs={"appid": t.a.appid, "openid": fan.openid}))
    body = page.content.decode()
    assert page.status_code == 200 and fan.openid in body and "门店0" in body
    missing = client.get(reverse("console:fan", kwargs={"appid": t.a.appid, "openid": "oNobody"}))
    assert missing.status_code == 404


def test_sync_start_progress_and_resume(two_accounts: TwoAccounts) -> None:
    t = two_accounts
    client = logged_in(t.admin_a)
    client.post(reverse("console:sync-start", kwargs={"appid": t.a.appid}))
    job = SyncJob.objects.get(account=t.a)
    progress_url = reverse("console:sync-progress", kwargs={"appid": t.a.appid, "job_id": job.pk})
    assert client.get(progress_url, HTTP_HX_REQUEST="true").status_code == 200  # still polling
    SyncJob.objects.filter(pk=job.pk).update(status=SyncStatus.FAILED, error="TokenError: bad secret")
    stop = client.get(progress_url, HTTP_HX_REQUEST="true")
    assert stop.status_code == 286 and "bad secret" in stop.content.decode()
    client.post(reverse("console:sync-resume", kwargs={"appid": t.a.appid, "job_id": job.pk}))
    job.refresh_from_db()
    assert job.status == SyncStatus.QUEUED and job.error == ""
    assert AuditEntry.objects.filter(account=t.a, action="fans.resume_follower_sync").exists()


def test_settings_change_is_audited_and_shown_to_admins_only(two_accounts: TwoAccounts) -> None:
    t = two_accounts
    client = logged_in(t.admin_a)
    url = reverse("console:settings", kwargs={"appid": t.a.appid})
    answer = client.post(
        url,
        {"name": "新名字", "welcome_text": "你好", "sync_every_hours": "6", "privacy_on_unfollow": "erase"},
    )
    assert answer.status_code == 302
    t.a.refresh_from_db()
    assert (t.a.name, t.a.sync_every_hours) == ("新名字", 6)
    entry = AuditEntry.objects.get(account=t.a, action="accounts.update")
    assert entry.actor == t.admin_a and entry.changes["sync_every_hours"] == [0, 6]
    audit = client.get(reverse("console:audit", kwargs={"appid": t.a.appid}))
    assert "accounts.update" in audit.content.decode()
    assert logged_in(t.agent_b).get(reverse("console:audit", kwargs={"appid": t.b.appid})).status_code == 403


def test_staff_grant_and_revoke(two_accounts: TwoAccounts) -> None:
    t = two_accounts
    # A colleague: staff of another account admin_a administers (anyone else is invited instead).
    other = make_account(name="账号C")
    Membership.objects.create(user=t.admin_a, account=other, role="admin")
    newcomer = make_user("newcomer")
    Membership.objects.create(user=newcomer, account=other, role="agent")
    client = logged_in(t.admin_a)
    client.post(
        reverse("console:staff-grant", kwargs={"appid": t.a.appid}), {"username": "newcomer", "role": "agent"}
    )
    assert t.a.memberships.filter(user=newcomer, role="agent").exists()
    client.post(reverse("console:staff-revoke", kwargs={"appid": t.a.appid, "user_id": newcomer.pk}))
    assert not t.a.memberships.filter(user=newcomer).exists()
    assert AuditEntry.objects.filter(account=t.a, action="staff.revoke_role").exists()


def test_the_console_speaks_chinese_whatever_the_browser_asks(two_accounts: TwoAccounts) -> None:
    login = Client().get(reverse("console:login"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert "登录" in login.content.decode() and 'lang="zh-hans"' in login.content.decode()
    client = logged_in(two_accounts.admin_a)
    url = reverse("console:fans", kwargs={"appid": two_accounts.a.appid})
    client.post(reverse("set_language"), {"language": "en", "next": url})
    assert ">Fans<" in client.get(url, HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()  # the switch wins


def test_console_pages_forbid_inline_script(two_accounts: TwoAccounts) -> None:
    client = logged_in(two_accounts.admin_a)
    page = client.get(reverse("console:fans", kwargs={"appid": two_accounts.a.appid}))
    policy = page["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
    assert Client().get(reverse("console:login")).has_header("Content-Security-Policy")
