"""Saved filters in a real browser: save the fan list's filter, save a new version, apply one."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest

from liucun.console.tests.conftest import add_fans, make_user, member
from liucun.console.tests.test_browser import browser, login  # noqa: F401 - the browser fixture
from liucun.segments.models import SavedFilter
from liucun.staff.models import Role
from liucun.testing.factories import make_account
from liucun.testing.live import running_server

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def shot(page: Any, name: str) -> None:
    folder = os.environ.get("LIUCUN_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def test_save_a_filter_add_a_version_and_apply_them(browser: Any) -> None:  # noqa: F811
    account = make_account(name="筛选演示号")
    add_fans(account, 12)  # following unless i % 4 == 3; channel store_{i % 3}
    member(make_user("yunying"), account, Role.OPERATOR)
    with running_server(workers=1, threads=2) as base:
        page = login(browser, base, "yunying")
        page.goto(f"{base}/a/{account.appid}/fans/?following=1&channel=store_1")
        assert page.locator("#saved-filter-picker").count() == 0  # nothing saved yet
        page.fill("#save-filter input[name=name]", "一号店关注者")
        page.click("#save-filter button[type=submit]:not([name])")
        page.wait_for_selector("#shown-saved")
        saved = SavedFilter.objects.get(account=account)
        assert saved.versions.get().filter == {"following": True, "channel": "store_1"}

        # Narrow the list with the form (htmx), then save that as the filter's next version: the name
        # field may stay empty for this button.
        page.select_option("select[name=window_open]", "1")
        page.wait_for_url(re.compile(r"window_open=1"))
        page.wait_for_selector("#shown-saved", state="detached")
        page.click("#save-filter button[name=as_version]")
        page.wait_for_selector("#shown-saved")
        saved.refresh_from_db()
        assert saved.version == 2
        shot(page, "fans-saved-filter")

        # Version 1 from the saved filters page: the fan list opens on it.
        page.goto(f"{base}/a/{account.appid}/filters/")
        shot(page, "saved-filters")
        page.click(f"a[href$='filter={saved.pk}&version=1']")
        page.wait_for_selector("#shown-saved")
        rows = page.locator("#fan-table tbody tr").count()
        assert rows == 3  # store_1 and following: fans 1, 4 and 10 (7 does not follow)
        assert "channel=store_1" in page.url and "window_open" not in page.url
