"""Login throttling as an attacker meets it: the admin is no way around it, a stranger cannot lock a staff
member out, and a client behind a trusted proxy is told apart from the others."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client, override_settings
from django.urls import reverse

from liucun.staff.models import LoginFailure

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"


def staff_user(username: str = "boss") -> None:
    get_user_model().objects.create_user(
        username=username, password=PASSWORD, is_staff=True, is_superuser=True
    )


def admin_login(client: Client, password: str, **extra: str) -> bool:
    client.post("/admin/login/", {"username": "boss", "password": password, "next": "/admin/"}, **extra)
    return "_auth_user_id" in client.session


@override_settings(LIUCUN_LOGIN_MAX_FAILURES=3)
def test_the_admin_login_is_throttled_like_the_console() -> None:
    staff_user()
    client = Client()
    for _ in range(3):
        assert not admin_login(client, "wrong")
    assert not admin_login(client, PASSWORD)  # locked: the right password does not get in either
    locked = client.post("/admin/login/", {"username": "boss", "password": PASSWORD})
    assert (
        "Too many failed logins" in locked.content.decode() or "登录失败次数过多" in locked.content.decode()
    )
    console = Client().post(reverse("console:login"), {"username": "boss", "password": PASSWORD})
    assert console.status_code == 429  # one count for both doors
    assert LoginFailure.objects.filter(username="boss").count() == 3


@override_settings(LIUCUN_LOGIN_MAX_FAILURES=3, LIUCUN_LOGIN_MAX_FAILURES_PER_USER=50)
def test_a_stranger_cannot_lock_a_staff_member_out() -> None:
    staff_user()
    stranger = Client(REMOTE_ADDR="203.0.113.9")
    for _ in range(5):
        stranger.post(reverse("console:login"), {"username": "boss", "password": "wrong"})
    assert (
        stranger.post(reverse("console:login"), {"username": "boss", "password": PASSWORD}).status_code == 429
    )
    owner = Client(REMOTE_ADDR="198.51.100.7")
    assert owner.post(reverse("console:login"), {"username": "boss", "password": PASSWORD}).status_code == 302


@override_settings(LIUCUN_LOGIN_MAX_FAILURES=100, LIUCUN_LOGIN_MAX_FAILURES_PER_USER=4)
def test_guessing_one_password_from_many_addresses_is_stopped_too() -> None:
    staff_user()
    for i in range(4):
        Client(REMOTE_ADDR=f"203.0.113.{i}").post(
            reverse("console:login"), {"username": "boss", "password": "x"}
        )
    late = Client(REMOTE_ADDR="203.0.113.200")
    assert late.post(reverse("console:login"), {"username": "boss", "password": PASSWORD}).status_code == 429


@override_settings(LIUCUN_LOGIN_MAX_FAILURES=2, LIUCUN_TRUSTED_PROXIES=["10.0.0.0/8"])
def test_clients_behind_a_trusted_proxy_are_counted_apart_and_nobody_else_can_claim_an_address() -> None:
    staff_user()
    url = reverse("console:login")
    attacker = {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "203.0.113.66"}
    for _ in range(2):
        Client(**attacker).post(url, {"username": "boss", "password": "wrong"})
    assert set(LoginFailure.objects.values_list("ip", flat=True)) == {"203.0.113.66"}
    colleague = Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert colleague.post(url, {"username": "boss", "password": PASSWORD}).status_code == 302
    # Not from a trusted proxy: the header is ignored and the connection's own address counts.
    LoginFailure.objects.all().delete()
    spoofing = Client(REMOTE_ADDR="192.0.2.5", HTTP_X_FORWARDED_FOR="198.51.100.7")
    spoofing.post(url, {"username": "boss", "password": "wrong"})
    assert list(LoginFailure.objects.values_list("ip", flat=True)) == ["192.0.2.5"]
    # The client appends itself last; what a client wrote before that is not believed.
    chained = Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.8, 10.0.0.3")
    chained.post(url, {"username": "boss", "password": "wrong"})
    assert LoginFailure.objects.filter(ip="203.0.113.8").count() == 1


def test_a_malformed_trusted_proxy_setting_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from liucun.envvars import ConfigurationError, env_networks

    monkeypatch.setenv("LIUCUN_TRUSTED_PROXIES", "10.0.0.0/8, not-an-address")
    with pytest.raises(ConfigurationError, match="not-an-address"):
        env_networks("LIUCUN_TRUSTED_PROXIES")
    monkeypatch.setenv("LIUCUN_TRUSTED_PROXIES", "10.0.0.1, ::1")
    assert env_networks("LIUCUN_TRUSTED_PROXIES") == ["10.0.0.1/32", "::1/128"]
