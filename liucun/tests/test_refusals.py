"""Refusals: the one error table, the one base class, and its one mapping each in the API and the console."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import translation

from liucun.fans.models import SyncJob
from liucun.refusals import Refused
from liucun.staff.models import Membership, Role
from liucun.testing.factories import make_account
from liucun.wechat.api.limits import LimitError
from liucun.wechat.apierrors import PermanentError, RetryableError, TokenError, error_for
from liucun.wechat_refusals import SENTENCES, WeChatRefused
from wxsim import errors as wxsim_errors

ROOT = Path(__file__).resolve().parents[2]
# Section 5 of the protocol fact sheet (docs/wxsim.md's source): the codes that matter.
PROTOCOL_CODES = {
    -1, 40001, 40014, 42001, 40003, 40032, 40033, 40037, 40164, 43004, 43101, 45009, 45011, 45015, 45028,
    45029, 45047, 45056, 45057, 45058, 45059, 45157, 45158, 45159, 45065, 45066, 45067, 45072, 45081,
    40008, 40092, 40130, 46004, 47001, 48001, 48002, 49003, 65320, 89503,
}  # fmt: skip
PATH_PREFIXES = ("/cgi-bin", "/datacube", "/customservice", "/wxaapi", "/sns/")


def test_the_table_has_words_for_every_documented_code_and_every_code_wxsim_answers() -> None:
    wxsim_codes = {v[0] for v in vars(wxsim_errors).values() if isinstance(v, tuple) and len(v) == 2}
    assert sorted((PROTOCOL_CODES | wxsim_codes) - set(SENTENCES)) == []


def test_domain_code_writes_no_wechat_path() -> None:
    """Only the typed API (liucun/wechat/) names WeChat's endpoints; tests may, to check wxsim."""
    found = []
    for path in sorted((ROOT / "liucun").rglob("*.py")):
        parts = set(path.relative_to(ROOT / "liucun").parts)
        if "tests" in parts or "testing" in parts or path.is_relative_to(ROOT / "liucun" / "wechat"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            text = node.value if isinstance(node, ast.Constant) else None
            if isinstance(text, str) and text.startswith(PATH_PREFIXES):
                found.append(f"{path.relative_to(ROOT)}: {text}")
    assert found == []


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (error_for("/p", 45157, "invalid tag name"), 409, "wechat.45157"),
        (error_for("/p", -1, "system error"), 503, "wechat.-1"),
        (error_for("/p", 45009, "quota"), 503, "wechat.45009"),
        (TokenError("/p", None, "no token"), 502, "wechat.TokenError"),
        (LimitError("/p", 40032, "51 openids"), 400, "wechat.40032"),
        (RetryableError("/p", None, "timed out after 10.0s"), 503, "wechat.RetryableError"),
    ],
)
def test_wechat_refusals_carry_a_status_and_a_stable_code(
    error: PermanentError, status: int, code: str
) -> None:
    refused = WeChatRefused(error)
    assert (refused.status, refused.code) == (status, code)


def test_sentences_render_in_the_readers_language_not_the_raisers() -> None:
    with translation.override("en"):
        refused = WeChatRefused(RetryableError("/cgi-bin/user/get", None, "HTTP 502"))
    with translation.override("en"):
        assert refused.message == (
            "WeChat refused: WeChat could not be reached or is busy (HTTP 502); try again in a minute."
        )
    unknown = WeChatRefused(PermanentError("/p", 99999, "something new"))
    with translation.override("en"):
        assert unknown.message == (
            "WeChat refused: WeChat refused with a code Liucun has no words for: 99999 something new "
            "(errcode 99999)."
        )
    several = Refused(["first problem", "second problem"])
    assert (several.messages, str(several), several.status) == (
        ["first problem", "second problem"],
        "first problem second problem",
        400,
    )


@pytest.fixture
def operator(db: None) -> tuple[Client, str]:
    account = make_account()
    user = get_user_model().objects.create_user(username="op", password="x" * 16)
    Membership.objects.create(user=user, account=account, role=Role.OPERATOR)
    client = Client()
    client.force_login(user)
    return client, account.appid


def test_the_api_answers_any_refusal_with_detail_code_and_status(operator: tuple[Client, str]) -> None:
    client, appid = operator
    first = client.post(f"/api/accounts/{appid}/syncs")
    assert first.status_code == 202
    job = first.json()["id"]
    again = client.post(f"/api/accounts/{appid}/syncs")
    assert (again.status_code, again.json()) == (
        409,
        {"detail": f"Sync {job} is already running.", "code": "sync.already_running"},
    )
    chinese = client.post(f"/api/accounts/{appid}/syncs", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert chinese.json() == {"detail": f"同步 {job} 正在进行中。", "code": "sync.already_running"}
    assert SyncJob.objects.count() == 1


def test_the_console_shows_a_refusal_on_the_page_it_came_from(operator: tuple[Client, str]) -> None:
    client, appid = operator
    page = reverse("console:sync", kwargs={"appid": appid})
    start = reverse("console:sync-start", kwargs={"appid": appid})
    assert client.post(start, HTTP_REFERER=f"http://testserver{page}").status_code == 302
    job = SyncJob.objects.get()
    refused = client.post(start, HTTP_REFERER=f"http://testserver{page}")
    assert (refused.status_code, refused["Location"]) == (302, f"http://testserver{page}")
    shown = client.get(page).content.decode()
    assert f"同步 {job.pk} 正在进行中。" in shown
    assert SyncJob.objects.count() == 1
    # From another site's page, or none, the refusal lands on the account's overview instead.
    elsewhere = client.post(start, HTTP_REFERER="https://evil.example/")
    assert elsewhere["Location"] == reverse("console:overview", kwargs={"appid": appid})
