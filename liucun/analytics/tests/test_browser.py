"""Every registered report in a real browser (Debian's chromium, headless): the chart draws, the table has
rows, no script error, a new range reloads the page with it, the CSV downloads; and the overview.

Set LIUCUN_SCREENSHOTS=docs/screenshots to refresh the pictures in the docs (make screenshots)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse

from liucun.analytics.periods import site_zone, today
from liucun.analytics.report import specs
from liucun.analytics.tests.fixtures import imported_history
from liucun.console.tests.conftest import PASSWORD, make_user, member
from liucun.console.tests.test_browser import browser, shot  # noqa: F401 - browser is a fixture
from liucun.pushimpact.actions import annotate
from liucun.readmodels.freshness import rebuilding_marker
from liucun.readmodels.models import ConsumerState
from liucun.staff.models import Role
from liucun.testing.factories import make_account
from liucun.testing.live import running_server

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def server(django_db_setup: None) -> Iterator[str]:
    with running_server(workers=1, threads=4) as base:
        yield base


def _open(browser: Any, base: str, username: str) -> tuple[Any, list[str]]:  # noqa: F811
    context = browser.new_context(
        viewport={"width": 1366, "height": 860}, locale="zh-CN", accept_downloads=True
    )
    page = context.new_page()
    errors: list[str] = []
    # The browser asks for /favicon.ico by itself; the console has none (not a page's error).
    page.on(
        "console",
        lambda m: (
            errors.append(f"{m.text} {m.location}")
            if m.type == "error" and not m.location.get("url", "").endswith("/favicon.ico")
            else None
        ),
    )
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector(".topbar-tools .user", state="attached")
    return page, errors


def test_every_report_draws_reloads_with_a_new_range_and_downloads(
    browser: Any,  # noqa: F811
    server: str,
    tmp_path: Path,
) -> None:
    account = make_account(name="留存演示号")
    member(make_user("yunying"), account, Role.ADMIN)
    imported_history(account, tmp_path, fans=400, days=75)
    # Moments for the push-impact report to judge (pushes sent elsewhere, annotated by an operator).
    for days_ago, title in ((40, "周年庆推文"), (12, "新品上市")):
        at = (datetime.now(site_zone()) - timedelta(days=days_ago)).replace(hour=20, minute=0, second=0)
        annotate("test", account, at, title)
    page, errors = _open(browser, server, "yunying")
    walked = []
    for spec in specs():
        url = server + reverse("console:report", args=[account.appid, spec.name])
        response = page.goto(url)
        assert response is not None and response.status == 200, spec.name
        page.wait_for_selector("#report-chart canvas", timeout=15_000)
        rows = page.locator("#report-table tbody tr")
        assert rows.count() >= 1 and page.locator("#report-table tbody td.empty").count() == 0, spec.name
        page.wait_for_timeout(800)  # the chart's entry animation, before the picture
        shot(page, f"report-{spec.name}")

        # A new range through the form: the page comes back with it, in the address and the fields.
        start = (today() - timedelta(days=20)).isoformat()
        page.fill("#report-form input[name=start]", start)
        with page.expect_navigation():
            page.click("#report-form button[type=submit]")
        assert f"start={start}" in page.url, spec.name
        assert page.input_value("#report-form input[name=start]") == start, spec.name
        page.wait_for_selector("#report-chart canvas", timeout=15_000)

        with page.expect_download() as download:
            page.click("#report-csv")
        text = Path(download.value.path()).read_text(encoding="utf-8-sig")
        table = list(csv.reader(io.StringIO(text)))
        assert len(table) >= 2 and len(table[0]) == page.locator("#report-table thead th").count(), spec.name
        walked.append(spec.name)
    assert errors == []
    assert walked == [s.name for s in specs()] and {"growth", "unfollow-rate"} <= set(walked)

    # The overview: its tiles lead to the growth and unfollow-rate reports.
    page.goto(server + reverse("console:overview", args=[account.appid]))
    page.wait_for_selector("#follow-chart canvas")
    page.wait_for_selector("#channel-chart canvas")
    page.wait_for_timeout(800)
    shot(page, "overview-report-tiles")
    page.click("#tile-rate a")
    page.wait_for_selector("#report-chart canvas")
    assert "/reports/unfollow-rate/" in page.url
    assert errors == []

    # A read model being rebuilt (an upgrade; on SQLite its tables fill up in chunks): its reports say so.
    state = ConsumerState.objects.get(name="menu-clicks")
    ConsumerState.objects.filter(name="menu-clicks").update(fingerprint=rebuilding_marker(state.fingerprint))
    page.goto(server + reverse("console:report", args=[account.appid, "menu-clicks"]))
    page.wait_for_selector("#report-chart canvas")
    assert page.locator("#report-freshness").is_visible()
    assert "正在重建" in page.inner_text("#report-freshness")
    page.wait_for_timeout(800)
    shot(page, "report-being-rebuilt")
    page.goto(server + reverse("console:report", args=[account.appid, "growth"]))
    page.wait_for_selector("#report-chart canvas")
    assert page.locator("#report-freshness").count() == 0  # growth reads neither
    assert errors == []
