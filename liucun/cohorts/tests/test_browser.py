"""The three stays reports in a real browser (Debian's chromium): each draws its chart without a script
error, in Chinese, and the retention grid's empty cells stay empty in the table."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from liucun.analytics.periods import today
from liucun.cohorts.tests.support import Stay, record
from liucun.console.tests.conftest import make_user, member
from liucun.console.tests.test_browser import browser, login, shot  # noqa: F401 (the browser fixture)
from liucun.staff.models import Role
from liucun.testing.factories import make_account
from liucun.testing.live import running_server

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_stays_reports_draw_their_charts(browser: Any) -> None:  # noqa: F811
    account = make_account(name="留存演示号")
    t = today()
    stays = [
        Stay(t - timedelta(days=d), channel, hours)
        for d in range(3, 60, 2)
        for channel, hours in (("giveaway", 20), ("giveaway", None), ("store", None), ("", 24 * d // 3))
    ]
    record(account, stays)
    member(make_user("yunying"), account, Role.ADMIN)
    with running_server(workers=1, start_within=120) as base:
        page = login(browser, base, "yunying")
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        for name in ("retention", "survival", "channel-quality"):
            page.goto(f"{base}/a/{account.appid}/reports/{name}/?start={t - timedelta(days=59)}&end={t}")
            page.wait_for_selector("#report-chart canvas")
            assert page.locator("#report-table").count() == 1
            shot(page, f"report-{name}")
        assert errors == []
        page.goto(f"{base}/a/{account.appid}/reports/retention/?start={t - timedelta(days=59)}&end={t}")
        assert "留存" in page.title() or "留存" in page.content()
