"""Pushes in a real browser: mark a moment, upload a CSV, see the report's finding and chart."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from liucun.console.tests.conftest import make_user, member
from liucun.console.tests.test_browser import browser, login  # noqa: F401 - the module's browser fixture
from liucun.pushimpact.consumer import hour_of
from liucun.pushimpact.models import HourlyFlows, HourlyTotals, Push
from liucun.pushimpact.tests.fixtures import HOUR0, steady_hours
from liucun.staff.models import Role
from liucun.testing.factories import make_account
from liucun.testing.live import running_server

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def base() -> Iterator[str]:
    with running_server(start_within=120) as url:  # a busy machine starts granian slowly
        yield url


def test_operator_marks_pushes_and_sees_the_costly_one(browser: Any, base: str, tmp_path: Path) -> None:  # noqa: F811
    account = make_account()
    member(make_user("operator"), account, Role.OPERATOR)
    steady_hours(account, 24 * 42, channel="store")
    bump = hour_of(HOUR0) + 35 * 24 + 12  # 20:00 China time on 2026-02-09
    HourlyFlows.objects.filter(account=account, hour=bump).update(follows=41, unfollows=41)
    HourlyTotals.objects.filter(account=account, hour=bump).update(follows=41, unfollows=41)

    page = login(browser, base, "operator")
    # English, so the sentences asserted here do not wait for the Chinese catalogue.
    page.context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": "en", "url": base}])
    page.goto(f"{base}/a/{account.appid}/pushes/")
    page.fill("#push-annotate input[name=date]", "2026-02-09")
    page.fill("#push-annotate input[name=time]", "20:00")
    page.fill("#push-annotate input[name=title]", "春节促销")
    page.click("#push-annotate button[type=submit]")
    page.wait_for_selector("#pushes td:has-text('春节促销')")
    sheet = tmp_path / "pushes.csv"
    sheet.write_bytes("日期,时间,标题\n2026-02-02,09:00,周一早报\n".encode("gb18030"))
    page.set_input_files("#push-import-csv input[type=file]", str(sheet))
    page.click("#push-import-csv button[type=submit]")
    page.wait_for_selector("#pushes td:has-text('周一早报')")
    assert Push.objects.filter(account=account).count() == 2

    page.goto(f"{base}/a/{account.appid}/reports/push-impact/?start=2026-01-05&end=2026-02-15")
    finding = page.locator("#report-findings li").first.inner_text()
    assert (
        finding
        == "“春节促销” (2026-02-09 20:00) cost about 40 more unfollows than usual in 24 h (p < 0.001)."
    )
    page.wait_for_selector("#report-chart canvas")
    first_row = page.locator("#report-table tbody tr").first
    assert "春节促销" in first_row.inner_text()
    assert page.locator("nav.sidebar a.active").inner_text() == "Push impact"
    page.goto(f"{base}/a/{account.appid}/pushes/")
    assert page.locator("nav.sidebar a.active").inner_text() == "Pushes"
    page.context.close()
