"""A contest's countdown ticks in the browser and the page reloads once when time is up."""

from __future__ import annotations

from datetime import datetime, timedelta

from commissions.demo import DOMAIN
from tests.browser.test_roles_in_browser import sign_in


def test_the_countdown_ticks_and_reloads_the_page_once_at_zero(page, live_server: str) -> None:  # type: ignore[no-untyped-def]
    sign_in(page, live_server, f"ana.alvarez@{DOMAIN}")
    page.goto(live_server + "/leaderboard/contests")
    running = page.locator("#contests-running tr[data-contest] a").first
    contest_url = live_server + running.get_attribute("href")
    listed = page.locator("#contests-running [data-countdown-until]").first
    assert listed.inner_text().strip() != ""
    until = datetime.fromisoformat(listed.get_attribute("data-countdown-until"))

    # this browser's clock 65 s before the contest ends (the server's is the real one: still running)
    page.clock.install(time=until - timedelta(seconds=70))
    page.goto(contest_url)
    page.clock.pause_at(until - timedelta(seconds=65))
    countdown = page.locator(".countdown[data-countdown-until]")
    page.clock.run_for(1000)
    assert countdown.inner_text() == "1 min 4 s left"
    page.clock.run_for(2000)
    assert countdown.inner_text() == "1 min 2 s left"

    page.evaluate("window.beforeZero = true")
    with page.expect_navigation():
        page.clock.run_for(63_000)  # zero: the contest has ended, the page reloads to show it
    assert page.evaluate("window.beforeZero") is None
    page.evaluate("window.afterReload = true")
    page.clock.run_for(5000)  # the server still says running (only this clock moved): no second reload
    assert page.evaluate("window.afterReload") is True
    assert countdown.inner_text() == "0 min 0 s left"
