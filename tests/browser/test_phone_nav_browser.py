"""On a phone the main navigation is one row that scrolls sideways: an admin's fourteen links took four rows
(215 px of an 844 px screen) before any content."""

from __future__ import annotations

import pytest

from commissions.demo import DOMAIN
from tests.browser.test_roles_in_browser import sign_in

pytestmark = pytest.mark.browser


def test_the_admins_navigation_is_one_sideways_row_on_a_phone(browser, live_server: str) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    try:
        sign_in(page, live_server, f"admin@{DOMAIN}")
        page.goto(live_server + "/admin/people")
        header = page.evaluate("document.querySelector('.topbar').getBoundingClientRect().height")
        assert header < 130, header
        row = page.evaluate(
            "(() => { const ul = document.querySelector('.topbar nav ul');"
            " return [ul.scrollWidth > ul.clientWidth, new Set([...ul.children].map(li => li.offsetTop)).size]; })()"
        )
        assert row == [True, 1]  # more links wait to the side, all on one line
        assert page.evaluate("document.documentElement.scrollWidth") == 390  # the page itself does not scroll
        page.click("nav[aria-label=Main] >> text=Badges")  # a link out of sight is still reached
        page.wait_for_url("**/admin/badges")
    finally:
        context.close()
