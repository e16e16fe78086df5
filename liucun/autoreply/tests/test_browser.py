"""The rule editor and "try it" in a real browser (Debian's chromium, headless) against `liucun serve`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from liucun.autoreply.models import Rule
from liucun.console.tests.conftest import make_user, member
from liucun.console.tests.test_browser import browser, login  # noqa: F401  (the module's browser fixture)
from liucun.events.models import Event
from liucun.staff.models import Role
from liucun.testing.factories import make_account
from liucun.testing.live import running_server

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def base() -> Iterator[str]:
    with running_server(workers=1, threads=4) as url:
        yield url


def test_operator_writes_a_rule_tries_it_and_a_refusal_keeps_the_form(browser: Any, base: str) -> None:  # noqa: F811
    account = make_account(welcome_text="")
    member(make_user("editor"), account, Role.OPERATOR)
    page = login(browser, base, "editor")
    page.goto(f"{base}/a/{account.appid}/rules/")
    page.click("#new-rule")
    page.fill("#name", "营业时间")
    page.select_option("#trigger", "keyword")
    page.select_option("#match", "contains")
    page.fill("#values", "营业时间\n几点")
    page.select_option("#reply1_type", "text")
    page.fill("textarea[name=reply1_text]", "长" * 683)  # 2049 bytes: refused, the form keeps the input
    page.click("#save-rule")
    assert "replies[1].text" in page.inner_text("#rule-error")
    assert page.input_value("#values") == "营业时间\n几点"
    assert not Rule.objects.filter(account=account).exists()
    page.fill("textarea[name=reply1_text]", "每天 9:00–21:00 营业")
    page.click("#save-rule")
    page.wait_for_url(f"{base}/a/{account.appid}/rules/")
    assert "营业时间" in page.inner_text("table[data-trigger=keyword]")

    page.fill("#try-text", "请问营业时间是几点？")
    page.click("#try-submit")
    page.wait_for_selector("#try-reply")
    assert page.inner_text("#try-reply") == "每天 9:00–21:00 营业"
    assert "营业时间" in page.inner_text("#try-verdict")
    assert page.url == f"{base}/a/{account.appid}/rules/"  # htmx swapped the result in place

    page.fill("#try-text", "你好")
    page.click("#try-submit")
    page.wait_for_selector("#try-reply", state="detached")  # the new answer has no reply bubble
    assert "营业时间" not in page.inner_text("#try-verdict")
    assert Event.objects.filter(account=account).count() == 0  # trying stores nothing
