"""A top manager's statement in a real browser, wide and narrow: totals first, a page of lines, and "Show more
lines" appending the next page in place (htmx) without leaving the page."""

from __future__ import annotations

import pytest

from commissions.demo import DOMAIN
from commissions.statements.pages import PAGE_LINES
from tests.browser.test_roles_in_browser import sign_in

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("width", [1280, 390])
def test_a_managers_statement_shows_totals_then_pages_its_lines(page, live_server: str, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, live_server, f"vp.sales@{DOMAIN}")
    page.goto(f"{live_server}/statements/vp.sales@{DOMAIN}")
    page.wait_for_selector("#statement-totals")
    assert page.is_visible("#statement-totals table.totals") and page.is_visible("table.by-report")
    reports = page.locator("table.by-report tbody tr").count()
    assert reports >= 2, "one row per direct report"
    # the totals come before any line
    assert page.evaluate(
        "() => document.querySelector('#statement-totals').compareDocumentPosition("
        "document.querySelector('#statement-lines')) & Node.DOCUMENT_POSITION_FOLLOWING"
    )
    rows = page.locator("#statement-lines tbody tr[id^=line-]")
    assert rows.count() == PAGE_LINES
    url = page.url
    page.click("text=Show more lines")
    rows.nth(PAGE_LINES).wait_for()  # (wait_for_function evaluates a string: the CSP forbids it)
    assert page.url == url, "htmx appended the rows in place"
    ids = page.eval_on_selector_all("#statement-lines tr[id^=line-]", "rows => rows.map(r => r.id)")
    assert len(ids) == len(set(ids)) > PAGE_LINES
    assert page.locator("tr.more-lines").count() <= 1
    # nothing sticks out of the page sideways: a wide table scrolls inside itself
    overflow = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 1, f"the page is {overflow}px wider than the window at {width}px"
