"""The game in Chromium (issue 17): a rep's own deal is celebrated on their open board (short, dismissible, still
for people who ask for reduced motion) while everyone else sees the banner with its currency; a new contest's
form succeeds on its first submit with its defaults, whoever opens it."""

from __future__ import annotations

import re
import uuid
from datetime import date

import httpx
import pytest

from commissions.demo import DOMAIN
from tests.browser.test_leaderboard_live import admin_token, wait_until
from tests.browser.test_roles_in_browser import sign_in

pytestmark = pytest.mark.browser
SSE_OPEN = "document.addEventListener('htmx:sseOpen', () => { window.leaderboardLive = true; });"


def _open_board(browser, live_server: str, who: str, **context_options):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1366, "height": 900}, **context_options)
    page = context.new_page()
    page.add_init_script(SSE_OPEN)
    sign_in(page, live_server, f"{who}@{DOMAIN}")
    page.goto(live_server + "/leaderboard")
    wait_until(page, "() => window.leaderboardLive === true")  # the event stream is open
    return context, page


def test_a_reps_own_deal_is_celebrated_for_them_and_announced_with_its_currency_to_others(
    browser, live_server: str, live_env
) -> None:  # type: ignore[no-untyped-def]
    mine_context, mine = _open_board(browser, live_server, "ana.alvarez", reduced_motion="reduce")
    other_context, other = _open_board(browser, live_server, "east.manager")
    try:
        headers = {"Authorization": f"Bearer {admin_token(live_env)}"}
        deal = {
            "external_id": f"CHEER-{uuid.uuid4().hex[:8]}",
            "name": "Globex renewal desk",
            "account": "Globex",
            "owner": f"ana.alvarez@{DOMAIN}",
            "amount": "12345.50",
            "currency": "USD",
            "closed_at": date.today().isoformat(),
            "type": "new",
            "product": "Enterprise",
            "term_months": 12,
        }
        response = httpx.post(live_server + "/api/v1/deals", json=deal, headers=headers, timeout=30)
        assert response.status_code == 201, response.text

        cheer = mine.locator("#celebration .cheer-mine")
        cheer.wait_for(timeout=15_000)
        assert cheer.get_attribute("role") == "status"
        assert "Your deal landed!" in cheer.inner_text()
        assert "You closed Globex, 12,345.50 USD" in cheer.inner_text()
        # reduced motion: no burst, no slide (it still fades away by itself after a while)
        assert mine.evaluate("getComputedStyle(document.querySelector('.cheer-burst')).display") == "none"
        assert mine.evaluate("getComputedStyle(document.querySelector('.cheer-mine')).animationName") != "cheer-mine-in"
        close = cheer.get_by_role("button", name="Dismiss")
        close.focus()
        mine.keyboard.press("Enter")  # dismissible from the keyboard
        assert mine.locator("#celebration .cheer-mine").count() == 0

        banner = other.locator("#celebration .cheer")
        banner.wait_for(timeout=15_000)
        assert banner.inner_text() == "Ana closed Globex, 12,345.50 USD"
        assert other.locator("#celebration .cheer-mine").count() == 0  # not their deal
    finally:
        mine_context.close()
        other_context.close()


@pytest.mark.parametrize("who", ["vp.sales", "east.manager", "admin"])
def test_a_new_contest_saves_on_the_first_submit_with_its_defaults(browser, live_server: str, who: str) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    try:
        sign_in(page, live_server, f"{who}@{DOMAIN}")
        page.goto(live_server + "/leaderboard/contests/new")
        page.fill("#contest-form input[name=name]", f"Friday sprint by {who}")
        page.click("#contest-form button[type=submit]")
        page.wait_for_url(re.compile(r".*/leaderboard/contests/\d+$"), timeout=10_000)
        assert page.get_by_role("heading", name=f"Friday sprint by {who}").count() == 1
    finally:
        context.close()
