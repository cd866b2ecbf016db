"""A rep records a deal in the browser: inline errors as they type, then the statement shows it."""

from __future__ import annotations

import pytest

from commissions.demo import DOMAIN
from tests.browser.test_roles_in_browser import sign_in

pytestmark = pytest.mark.browser


def test_rep_records_a_deal_with_inline_validation(page, live_server: str) -> None:
    sign_in(page, live_server, f"ana.alvarez@{DOMAIN}")
    page.goto(live_server + "/deals/new")
    page.fill("#deal-form input[name=amount]", "12.345")
    page.press("#deal-form input[name=amount]", "Tab")
    page.wait_for_selector("#error-amount:not(:empty)")
    assert "more decimals than USD allows" in page.inner_text("#error-amount")
    assert "/deals/new" in page.url, "validation happened in place"

    page.fill("#deal-form input[name=name]", "Browser Co platform")
    page.fill("#deal-form input[name=account]", "Browser Co")
    page.fill("#deal-form input[name=amount]", "33000")
    page.fill("#deal-form input[name=product]", "Pro")
    page.fill("#deal-form input[name=external_id]", "UI-1")
    page.wait_for_selector("#error-amount:empty", state="attached")  # the fix cleared the error in place
    page.click("#deal-form button[type=submit]")
    page.wait_for_url("**/deals?recorded=UI-1")
    notice = page.locator("#deal-saved[role=status]")
    assert notice.inner_text().startswith("Deal UI-1 recorded."), "a confirmation after saving"
    assert notice.locator("a").get_attribute("href", timeout=2000).startswith("/deals/")  # the deal's own page
    page.goto(live_server + "/statements")
    assert "UI-1 Browser Co platform" in page.content()
