"""Attacks on the callback that an outside review found: each is refused at the door and stores nothing."""

from __future__ import annotations

import logging

import pytest
from django.test import Client

from liucun.events.models import Event
from liucun.fans.models import Fan
from liucun.inbound import accounts_cache
from liucun.inbound.tests.test_callback import _peer, _post, _text
from liucun.testing.factories import make_account

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("openid", ["", "o/../../etc", "oA\nB", "o" * 65, "o A"])
@pytest.mark.parametrize("mode", ["plaintext", "safe"])
def test_a_signed_delivery_from_something_that_is_not_an_openid_is_refused(
    client: Client, mode: str, openid: str
) -> None:
    account = make_account(mode=mode)
    response = _post(client, _peer(account).sign(_text(openid, 1, to=account.original_id)))
    assert response.status_code == 400
    assert "FromUserName" in response.content.decode()
    assert (Event.objects.count(), Fan.objects.count()) == (0, 0)


def test_deeply_nested_xml_is_a_400_not_a_crash(client: Client) -> None:
    account = make_account(mode="plaintext")
    nested = "<a>" * 5000 + "x" + "</a>" * 5000
    body = _text("oA", 2, to=account.original_id).replace("</xml>", f"<Extra>{nested}</Extra></xml>")
    response = _post(client, _peer(account).sign(body))
    assert response.status_code == 400
    assert "nested deeper" in response.content.decode()
    assert Event.objects.count() == 0


def test_malformed_appids_are_not_looked_up_and_unknown_ones_cannot_grow_the_cache(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(accounts_cache, "MAX_ENTRIES", 50)
    looked_up: list[str] = []
    real_load = accounts_cache._load
    monkeypatch.setattr(accounts_cache, "_load", lambda appid: looked_up.append(appid) or real_load(appid))
    assert client.post(f"/wechat/{'x' * 60}/callback", b"<xml/>", content_type="text/xml").status_code == 404
    assert client.post("/wechat/wxZZZZ/callback", b"<xml/>", content_type="text/xml").status_code == 404
    assert looked_up == []
    for i in range(200):
        client.post(f"/wechat/wx{i:016x}/callback", b"<xml/>", content_type="text/xml")
    assert len(looked_up) == 200
    assert accounts_cache.cached_entries() == 50
    account = make_account(mode="plaintext")
    assert _post(client, _peer(account).sign(_text("oA", 3, to=account.original_id))).status_code == 200


def test_a_newline_in_the_path_cannot_forge_a_log_line(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    from liucun.logredact import RedactSecretsFilter

    forged = "wx0123456789abcdef%0a2026-12-01 00:00:00 WARNING liucun.callback all good"
    with caplog.at_level(logging.WARNING, logger="liucun.callback"):
        client.post(f"/wechat/{forged}/callback", b"<xml/>", content_type="text/xml")
    lines = []
    for record in caplog.records:
        RedactSecretsFilter().filter(record)
        lines.append(record.getMessage())
    assert lines and all("\n" not in line for line in lines)


def test_the_log_filter_escapes_every_control_character() -> None:
    from liucun.logredact import escape_controls

    assert escape_controls("a\nb\rc\x1b[2Jd\u2028e\tf") == "a\\nb\\rc\\x1b[2Jd\\x2028e\tf"


def test_a_plaintext_delivery_with_a_stale_timestamp_is_refused(client: Client) -> None:
    account = make_account(mode="plaintext")
    stale = _peer(account).sign(_text("oA", 4, to=account.original_id), timestamp="946684800")  # year 2000
    response = _post(client, stale)
    assert response.status_code == 403 and "timestamp" in response.content.decode()
    assert Event.objects.count() == 0


def test_a_signed_plaintext_url_carries_one_body_only_but_wechat_may_retry_it(client: Client) -> None:
    account = make_account(mode="plaintext")
    first = _peer(account).sign(_text("oA", 5, to=account.original_id), nonce="424242")
    assert _post(client, first).status_code == 200
    assert _post(client, first).status_code == 200  # WeChat's retry: same URL, same body
    forged = type(first)(
        path=first.path, query=first.query, body=_text("oA", 6, "转账", to=account.original_id).encode()
    )
    response = _post(client, forged)
    assert response.status_code == 403 and "another body" in response.content.decode()
    assert list(Event.objects.values_list("dedupe_key", flat=True)) == ["msg:5"]


def test_safe_mode_is_not_held_to_the_plaintext_checks(client: Client) -> None:
    account = make_account(mode="safe")
    old = _peer(account).sign(_text("oA", 7, to=account.original_id), timestamp="1700000000")
    assert _post(client, old).status_code == 200  # msg_signature covers the body; nothing to replay


def test_expired_nonces_are_forgotten(client: Client, settings) -> None:
    from datetime import UTC, datetime, timedelta

    from liucun.inbound.models import PlaintextNonce
    from liucun.inbound.replay import forget_expired

    account = make_account(mode="plaintext")
    _post(client, _peer(account).sign(_text("oA", 8, to=account.original_id)))
    assert PlaintextNonce.objects.count() == 1
    assert forget_expired() == 0
    PlaintextNonce.objects.update(created_at=datetime.now(UTC) - timedelta(hours=1))
    assert forget_expired() == 1
