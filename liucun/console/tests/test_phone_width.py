"""The console at phone width (390 × 844, an agent answering fans from a phone) and, for contrast, at 1280.

A real chromium against `liucun serve` on the test database. At phone width no page may scroll sideways,
the navigation sits behind a menu button in a one-line top bar, and a table shows each row as a card whose
cells say their column's name (data-label). Set LIUCUN_SCREENSHOTS=docs/screenshots to refresh the
phone-width pictures in the docs (make screenshots).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.urls import reverse

from liucun.accounts.models import OfficialAccount
from liucun.console.tests.conftest import PASSWORD, make_user, member
from liucun.console.tests.test_browser import browser, shot  # noqa: F401 - browser is a fixture
from liucun.console.tests.test_query_counts import PINNED, populate, url_for
from liucun.console.tests.test_scope import console_patterns
from liucun.staff.models import Role
from liucun.testing.factories import make_account
from liucun.testing.live import running_server
from liucun.testing.suites import on_postgres

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    # Layout at a width is the stylesheet's and the templates', never the database's: measured once, on
    # SQLite, to keep `make test` inside its time budget. The pages' queries run on both (test_query_counts).
    pytest.mark.skipif(
        on_postgres(),
        reason="layout does not depend on the database",
    ),
]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
# How wide the page's content is, against how wide the window is: more means a sideways scroll.
OVERFLOW = "() => [document.documentElement.scrollWidth, window.innerWidth]"


@pytest.fixture(scope="module")
def server(django_db_setup: None) -> Iterator[str]:
    # One server for the module; each test's rows are its own (the database is emptied after each test).
    with running_server(workers=1, threads=4) as base:
        yield base


@pytest.fixture
def shop() -> dict[str, Any]:
    """An account with rows of every kind a console page lists, and its admin."""
    account = make_account(name="留存演示号（华东区门店会员服务中心）")
    admin = member(make_user("dianzhang"), account, Role.ADMIN)
    ids = populate(account, 12)
    return {"account": account, "admin": admin, "ids": ids}


def open_console(browser: Any, base: str, username: str, viewport: dict[str, int]) -> Any:  # noqa: F811
    context = browser.new_context(viewport=viewport, locale="zh-CN", device_scale_factor=2)
    page = context.new_page()
    page.goto(f"{base}/login/")
    assert page.evaluate(OVERFLOW) == [viewport["width"], viewport["width"]]  # the login page too
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector(".topbar-tools .user", state="attached")
    return page


def visit(page: Any, url: str) -> None:
    response = page.goto(url)
    assert response is not None and response.status == 200, url
    assert page.evaluate(OVERFLOW) == [PHONE["width"], PHONE["width"]], f"{url} scrolls sideways"


def card_of(page: Any, row: str) -> dict[str, Any]:
    """How a table row is laid out: its display, its box, what each cell shows before its value (CSS quotes
    a generated text; "none" is no label), and the texts of the table's column headers."""
    return dict(
        page.eval_on_selector(
            row,
            """tr => ({
                display: getComputedStyle(tr).display,
                left: tr.getBoundingClientRect().left,
                right: tr.getBoundingClientRect().right,
                labels: [...tr.cells].map(td => getComputedStyle(td, '::before').content),
                headers: [...tr.closest('table').tHead.rows[0].cells].map(th => th.textContent.trim()),
                shown: [...tr.closest('table').tHead.rows[0].cells]
                    .filter(th => th.offsetParent !== null).map(th => th.textContent.trim()),
            })""",
        )
    )


# Every cell of every table.list on the page that does not name its column: its label must be the start of
# the column's header text ("Open" for "Open (e.g. 09:00-12:00)"), of any of them for a cell spanning
# columns, and may be anything (usually empty) under a header without text or across the whole row.
MISLABELLED = """() => [...document.querySelectorAll('table.list')].flatMap(table => {
    const text = el => el.textContent.replace(/\\s+/g, ' ').trim();
    const head = table.tHead ? [...table.tHead.rows[0].cells].map(text) : null;
    return [...table.tBodies].flatMap(b => [...b.rows]).filter(tr => !tr.querySelector('td.empty'))
        .flatMap(tr => {
            let column = 0;
            return [...tr.cells].flatMap(cell => {
                const names = head ? head.slice(column, column + cell.colSpan) : null;
                column += cell.colSpan;
                const label = cell.getAttribute('data-label');
                if (cell.tagName !== 'TD') return [];
                if (head && cell.colSpan >= head.length) return [];  // a note across the whole row
                if (label === null) return ['no data-label: ' + cell.outerHTML.slice(0, 100)];
                if (!names || names.every(n => !n)) return [];
                if (label && names.some(n => n.startsWith(label)))
                    return [];
                return [`"${label}" under ${JSON.stringify(names)}: ${cell.outerHTML.slice(0, 60)}`];
            });
        });
})"""


# Buttons shown on the page that are less than 44 px tall (too small a target for a thumb).
SHORT_BUTTONS = """() => [...document.querySelectorAll('button, .button, input[type=submit]')]
    .filter(b => b.offsetParent !== null && b.getBoundingClientRect().height < 44)
    .map(b => b.outerHTML.slice(0, 100))"""


def said(headers: list[str]) -> list[str]:
    """The labels a card's cells should show: each column's header, none where the header is empty."""
    return [f'"{h}"' if h else "none" for h in headers]


def test_phone_width_pages_fit_the_screen_and_navigate_through_the_menu(
    browser: Any,  # noqa: F811
    server: str,
    shop: dict[str, Any],
) -> None:
    account: OfficialAccount = shop["account"]
    appid, openid = account.appid, shop["ids"]["openid"]
    page = open_console(browser, server, "dianzhang", PHONE)

    # The fan list: one-line top bar, no sidebar, rows as cards that name each value.
    visit(page, f"{server}/a/{appid}/fans/")
    assert page.eval_on_selector(".topbar", "e => e.getBoundingClientRect().height") == 52
    assert page.locator(".sidebar").is_hidden() and page.locator("#my-tokens").is_hidden()
    assert page.locator(".menu-button").is_visible()
    # The long account name gives way (cut with an ellipsis) rather than wrapping the bar.
    name = page.eval_on_selector(".current-account", "e => [e.scrollWidth > e.clientWidth, e.clientHeight]")
    assert name[0] is True and name[1] <= 52
    card = card_of(page, "#bulk-tag tbody tr")
    assert card["display"] == "block"
    assert card["left"] == 12 and card["right"] == PHONE["width"] - 12
    assert card["labels"] == said(card["headers"])
    assert card["labels"][1:4] == ['"OpenID"', '"状态"', '"渠道"']
    # The column headers are said by the cards; only the ones that do something (sort, select all) stay.
    sorting = page.eval_on_selector_all("#bulk-tag thead th:has(a, input)", "ths => ths.length")
    assert sorting >= 4 and page.locator("#bulk-tag thead th:visible").count() == sorting
    assert page.evaluate(SHORT_BUTTONS) == []
    shot(page, "phone-fans")
    page.eval_on_selector("#bulk-tag .table-head", "e => e.scrollIntoView()")
    shot(page, "phone-fans-list")
    page.evaluate("window.scrollTo(0, 0)")

    # The menu: the button opens the account's navigation, user and language; a link in it works.
    page.click(".menu-button")
    assert page.get_attribute(".menu-button", "aria-expanded") == "true"
    assert page.locator(".sidebar").is_visible() and page.locator("#my-tokens").is_visible()
    shot(page, "phone-menu")
    page.keyboard.press("Escape")
    assert page.get_attribute(".menu-button", "aria-expanded") == "false"
    assert page.locator(".sidebar").is_hidden()
    page.click(".menu-button")
    page.click(".sidebar >> text=标签")
    page.wait_for_url(f"{server}/a/{appid}/tags/")
    assert page.evaluate(OVERFLOW) == [PHONE["width"], PHONE["width"]]
    assert page.locator(".sidebar").is_hidden()  # a new page starts with the menu closed
    tag_card = card_of(page, "#tags tbody tr")
    assert tag_card["display"] == "block" and tag_card["labels"] == said(tag_card["headers"])
    assert tag_card["labels"][:3] == ['"标签"', '"粉丝"', '"微信标签 ID"']

    # A fan's page, the messages and the overview fit too.
    visit(page, f"{server}/a/{appid}/fans/{openid}/")
    assert page.evaluate(MISLABELLED) == [] and page.evaluate(SHORT_BUTTONS) == []
    shot(page, "phone-fan")
    visit(page, f"{server}{reverse('console:messages', args=[appid])}")
    assert page.evaluate(MISLABELLED) == []
    visit(page, f"{server}/a/{appid}/")
    page.wait_for_selector("#follow-chart canvas")
    assert page.eval_on_selector("#follow-chart canvas", "c => c.getBoundingClientRect().right") <= 390 - 12
    page.context.close()


def test_without_scripts_the_phone_menu_stays_unfolded(
    browser: Any,  # noqa: F811
    server: str,
    shop: dict[str, Any],
) -> None:
    # Logging in needs no script; the cookie then carries over to a context that runs none.
    page = open_console(browser, server, "dianzhang", PHONE)
    state = page.context.storage_state()
    page.context.close()
    context = browser.new_context(
        viewport=PHONE, locale="zh-CN", java_script_enabled=False, storage_state=state
    )
    page = context.new_page()
    visit(page, f"{server}/a/{shop['account'].appid}/fans/")
    assert page.locator(".menu-button").is_hidden()
    assert page.locator(".sidebar >> text=标签").is_visible()
    context.close()


def test_desktop_keeps_its_sidebar_and_top_bar(
    browser: Any,  # noqa: F811
    server: str,
    shop: dict[str, Any],
) -> None:
    page = open_console(browser, server, "dianzhang", DESKTOP)
    page.goto(f"{server}/a/{shop['account'].appid}/fans/")
    assert page.locator(".menu-button").is_hidden()
    sidebar = page.eval_on_selector(
        ".sidebar", "e => { const r = e.getBoundingClientRect(); return [r.left, r.top, r.width] }"
    )
    assert sidebar == [0, 52, 188]
    # The user's tools sit in the top bar's line, at its right end.
    tools = page.eval_on_selector(
        ".topbar-tools", "e => { const r = e.getBoundingClientRect(); return [r.top, r.height, r.right] }"
    )
    assert tools == [0, 52, DESKTOP["width"]]
    row = card_of(page, "#bulk-tag tbody tr")
    assert row["display"] == "table-row" and row["labels"] == ["none"] * len(row["headers"])
    assert row["shown"] == row["headers"]
    # Scrolled down, the top bar and its tools stay at the top.
    page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
    assert page.evaluate("window.scrollY") > 200
    tops = page.evaluate(
        "['.topbar', '.topbar-tools'].map(s => document.querySelector(s).getBoundingClientRect().top)"
    )
    assert tops == [0, 0]
    # Narrower (a tablet), the sidebar stays, and the top bar still takes one line: the long account name
    # is cut short instead of wrapping (one line of the brand's 20 px text is 30 px).
    page.set_viewport_size({"width": 800, "height": 800})
    page.evaluate("window.scrollTo(0, 0)")
    assert page.locator(".sidebar").is_visible() and page.locator(".menu-button").is_hidden()
    heights = page.eval_on_selector_all(
        ".topbar > *:not(.spacer), .topbar-tools > *", "els => els.map(e => e.getBoundingClientRect().height)"
    )
    assert len(heights) == 7 and max(heights) <= 30, heights  # brand, account, (hidden) menu button, 4 tools
    assert page.eval_on_selector(".topbar-tools", "e => e.getBoundingClientRect().height") == 52
    page.context.close()


def test_every_console_page_fits_a_phone(
    browser: Any,  # noqa: F811
    server: str,
    shop: dict[str, Any],
) -> None:
    """Every GET page pinned in test_query_counts (so a new page joins once it is pinned there), with rows
    of every kind: no sideways scroll at 390 px, every table cell names its column (data-label), and
    every button is a thumb's size."""
    account, ids = shop["account"], shop["ids"]
    page = open_console(browser, server, "dianzhang", PHONE)
    started = time.monotonic()
    seen: dict[str, str] = {}
    for pattern in console_patterns():
        if pattern.name not in PINNED:
            continue
        url = server + url_for(pattern, account, ids, shop["admin"].pk)
        answer = page.request.get(url)
        if not answer.headers["content-type"].startswith("text/html"):
            seen[str(pattern.name)] = "download"
            continue
        response = page.goto(url)
        assert response is not None and response.status == 200, url
        if page.locator("header.topbar").count() == 0:
            # A fragment that htmx swaps into its page (a job's progress row, the fan page's sending
            # part): unstyled on its own, so it is measured inside the page that loads it.
            seen[str(pattern.name)] = "fragment"
            continue
        assert page.evaluate(OVERFLOW) == [PHONE["width"], PHONE["width"]], f"{url} scrolls sideways"
        assert page.evaluate(MISLABELLED) == [], pattern.name
        assert page.evaluate(SHORT_BUTTONS) == [], pattern.name
        seen[str(pattern.name)] = "fits"
    assert set(seen) == set(PINNED)
    assert {name for name, what in seen.items() if what == "download"} == {
        "fans-csv",
        "fan-export",
        "rules-export",
        "channel-qrcode-image",
        "report-csv",
    }
    assert {"fans", "fan", "messages", "overview", "tags", "audit"} <= {
        n for n, w in seen.items() if w == "fits"
    }
    print(f"{len(seen)} pages walked in {time.monotonic() - started:.1f} s")
    page.context.close()


def test_the_label_check_finds_cells_that_name_no_column_or_the_wrong_one(browser: Any) -> None:  # noqa: F811
    page = browser.new_page()
    page.set_content(
        """<table class="list"><thead><tr><th></th><th>A  b</th><th>C</th><th>D</th><th></th></tr></thead>
        <tbody><tr><td data-label=""><input type="checkbox"></td><td data-label="A">1</td>
          <td colspan="2" data-label="D">2</td><td data-label="">x</td></tr>
        <tr><td colspan="5" class="empty">-</td></tr></tbody></table>"""
    )
    assert page.evaluate(MISLABELLED) == []
    page.set_content(
        """<table class="list"><thead><tr><th></th><th>A</th><th>B c</th></tr></thead>
        <tbody><tr><td>x</td><td data-label="B">1</td><td data-label="">2</td></tr>
        <tr><td data-label=""></td><td data-label="Ab">1</td><td data-label="c">2</td></tr>
        <tr><td colspan="3" class="muted">nothing yet</td></tr></tbody></table>"""
    )
    assert page.evaluate(MISLABELLED) == [
        "no data-label: <td>x</td>",
        '"B" under ["A"]: <td data-label="B">1</td>',
        '"" under ["B c"]: <td data-label="">2</td>',
        '"Ab" under ["A"]: <td data-label="Ab">1</td>',
        '"c" under ["B c"]: <td data-label="c">2</td>',
    ]
    page.close()
