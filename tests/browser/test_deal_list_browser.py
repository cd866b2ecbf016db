"""The deal list and the deal page in headless Chromium: search, filter and page the list (the table swaps in
place and the address follows), open a deal, at desktop and phone width without page-level sideways scrolling."""

from __future__ import annotations

import re

import pytest

from commissions.demo import DOMAIN
from tests.browser.test_roles_in_browser import sign_in

pytestmark = pytest.mark.browser

WIDTHS = [(1366, 900), (390, 844)]
NO_SIDEWAYS = "document.documentElement.scrollWidth <= document.documentElement.clientWidth"


def until(page, check, what: str) -> None:  # type: ignore[no-untyped-def]
    """Poll ``check`` (the pages' CSP refuses the string predicates of wait_for_function)."""
    for _ in range(100):
        if check():
            return
        page.wait_for_timeout(50)
    raise AssertionError(f"timed out waiting for {what} at {page.url}")


def shown(page) -> int:  # type: ignore[no-untyped-def]
    text = page.inner_text("#deal-count")
    found = re.match(r"([\d,]+) of", text)
    assert found, text
    return int(found.group(1).replace(",", ""))


@pytest.mark.parametrize(("width", "height"), WIDTHS)
def test_filter_page_and_open_a_deal(page, live_server: str, width: int, height: int) -> None:
    page.set_viewport_size({"width": width, "height": height})
    sign_in(page, live_server, f"finance@{DOMAIN}")
    page.goto(live_server + "/deals?period=all&limit=10")
    everything = shown(page)
    assert page.locator("#deals-table tbody tr").count() == 10
    assert page.evaluate(NO_SIDEWAYS), "the page scrolls sideways"

    page.select_option("select[name=status]", "won")  # htmx: the table swaps and the address follows
    page.wait_for_url(re.compile(r"status=won"))
    until(page, lambda: shown(page) != everything, "the count to change")
    won = shown(page)
    assert 0 < won < everything

    page.fill("#deal-search", "Enterprise")
    page.wait_for_url(re.compile(r"q=Enterprise&"))
    page.wait_for_load_state("networkidle")
    until(page, lambda: "q=Enterprise" in (page.get_attribute("a[rel=next]", "href") or ""), "the searched table")
    until(page, lambda: shown(page) != won, "the search to apply")
    matching = shown(page)
    assert 10 < matching < won, "the demo has more than a page of won Enterprise deals"

    seen: list[str] = []
    while True:  # every page, following Next, adds up to the total shown
        rows = page.locator("#deals-table tbody tr td:nth-child(2) small")
        seen += rows.all_inner_texts()
        nxt = page.locator("a[rel=next]")
        if nxt.count() == 0:
            break
        target = nxt.get_attribute("href") or ""
        with page.expect_response(lambda r: "cursor=" in r.url):
            nxt.click()
        page.wait_for_url(lambda url: url.endswith(target.split("cursor=")[1]))  # noqa: B023
        page.wait_for_load_state("networkidle")
        page.wait_for_selector("#deals-table")
        assert "cursor=" in page.url and "q=Enterprise" in page.url and "status=won" in page.url
        assert page.evaluate(NO_SIDEWAYS)
    assert len(seen) == len(set(seen)) == matching

    page.locator("#deals-table tbody tr td:nth-child(2) a").first.click()
    page.wait_for_url(re.compile(r"/deals/\d+$"))
    assert page.locator("h1").inner_text()
    assert page.locator("#deal-lines").is_visible()
    assert page.locator("a.button:text('Edit')").count() == 1, "finance may change any deal"
    assert page.evaluate(NO_SIDEWAYS), "the deal page scrolls sideways"

    page.go_back()  # the filtered list again, from its address
    page.wait_for_selector("#deal-filters")
    assert page.input_value("#deal-search") == "Enterprise"


def test_the_list_works_without_javascript(browser, live_server: str) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(live_server + "/login")
        page.fill("input[name=email]", f"east.manager@{DOMAIN}")
        page.fill("input[name=password]", "quotaboard-demo")
        page.click("button[type=submit]")
        page.goto(live_server + "/deals?period=all&limit=5")
        page.select_option("select[name=type]", "renewal")
        page.click("#deal-filters button[type=submit]")
        page.wait_for_url(re.compile(r"type=renewal"))
        assert set(page.locator("#deals-table tbody td:nth-child(5)").all_inner_texts()) == {"renewal"}
        page.click("a[rel=next]")
        page.wait_for_url(re.compile(r"cursor="))
        assert set(page.locator("#deals-table tbody td:nth-child(5)").all_inner_texts()) == {"renewal"}
    finally:
        context.close()
