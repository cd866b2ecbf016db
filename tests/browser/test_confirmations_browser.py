"""One-click actions that move pay or access ask first (``data-confirm``, static/confirm.js): declining sends
nothing, so the deal is still won."""

from __future__ import annotations

import pytest

from commissions.demo import DOMAIN
from tests.browser.test_roles_in_browser import sign_in

pytestmark = pytest.mark.browser


def test_cancelling_a_deal_asks_first_and_declining_sends_nothing(page, live_server: str) -> None:
    sign_in(page, live_server, f"ana.alvarez@{DOMAIN}")
    page.goto(live_server + "/deals")
    page.locator("table a[href^='/deals/']").first.click()
    page.wait_for_selector("#cancel-deal")
    deal_url = page.url
    status_before = page.inner_text(".deal-status")
    asked: list[str] = []
    posted: list[str] = []
    page.on("request", lambda request: posted.append(request.url) if request.method == "POST" else None)

    def decline(dialog) -> None:  # type: ignore[no-untyped-def]
        asked.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", decline)
    page.click("#cancel-deal button[type=submit]")
    page.wait_for_timeout(300)
    assert asked and asked[0].startswith("Cancel this deal?")
    assert posted == [] and page.url == deal_url
    page.reload()
    assert page.inner_text(".deal-status") == status_before
