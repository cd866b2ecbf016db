"""The leaderboard's podium and TV mode in Chromium (issue 17): the top three on steps 2-1-3, in rank order for
screen readers, at 1,366 px and on a phone; TV mode fills 1080p and 4K screens without scrolling."""

from __future__ import annotations

import pytest

from commissions.demo import DOMAIN
from tests.browser.test_roles_in_browser import sign_in

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("width", [1366, 390])
def test_the_podium_shows_the_top_three_in_order(browser, live_server: str, width: int) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    try:
        sign_in(page, live_server, f"ana.alvarez@{DOMAIN}")
        page.goto(live_server + "/leaderboard")
        podium = page.locator("section.podium")
        assert podium.get_by_role("heading", name="Podium").count() == 1
        steps = podium.locator("ol.podium-steps > li")
        assert steps.count() == 3
        # the list is in rank order (what a screen reader reads) and names the table's first three
        table = page.locator("#board table.leaderboard tbody tr[data-person]")
        top_people = [table.nth(i).get_attribute("data-person") for i in range(3)]
        top_ranks = [int(table.nth(i).get_attribute("data-rank") or 0) for i in range(3)]
        assert [steps.nth(i).get_attribute("data-person") for i in range(3)] == top_people
        assert [int(steps.nth(i).get_attribute("data-rank") or 0) for i in range(3)] == top_ranks
        assert top_ranks == sorted(top_ranks) and top_ranks[0] == 1
        names = [table.nth(i).locator("td.name").inner_text().split("(")[0].strip() for i in range(3)]
        for i, name in enumerate(names):
            assert name.split()[0] in steps.nth(i).locator(".podium-name").inner_text()
            assert "%" in steps.nth(i).locator(".podium-figure").inner_text()
        assert steps.nth(0).locator(".sr-only").inner_text().startswith("Rank 1")
        # on screen: second place left, the winner in the middle and highest, third right
        boxes = [steps.nth(i).bounding_box() for i in range(3)]
        blocks = [steps.nth(i).locator(".podium-block").bounding_box() for i in range(3)]
        assert all(boxes) and all(blocks)
        assert boxes[1]["x"] < boxes[0]["x"] < boxes[2]["x"]  # type: ignore[index]
        assert blocks[0]["height"] > blocks[1]["height"] > blocks[2]["height"]  # type: ignore[index]
        assert boxes[2]["x"] + boxes[2]["width"] <= width  # type: ignore[index]
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        # the board says what it shows: the company view's team selector is off and says so
        team = page.locator("#board-form select[name=team]")
        assert team.is_disabled()
        assert "My team" not in team.locator("option[value='']").inner_text()
    finally:
        context.close()


@pytest.mark.parametrize(("width", "height"), [(1920, 1080), (3840, 2160)])
def test_tv_mode_fits_the_screen_without_scrolling(browser, live_server: str, width: int, height: int) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    try:
        sign_in(page, live_server, f"ana.alvarez@{DOMAIN}")
        page.goto(live_server + "/leaderboard/tv")
        page.locator("table.tv-table tbody tr").first.wait_for()
        sizes = page.evaluate(
            """() => ({
                scrollW: document.documentElement.scrollWidth, scrollH: document.documentElement.scrollHeight,
                rows: document.querySelectorAll('table.tv-table tbody tr').length,
                font: parseFloat(getComputedStyle(document.querySelector('table.tv-table td.name')).fontSize),
                bottom: document.querySelector('.tv-foot').getBoundingClientRect().bottom,
            })"""
        )
        assert sizes["rows"] == 10
        assert sizes["scrollW"] <= width and sizes["scrollH"] <= height, sizes
        assert sizes["bottom"] <= height, sizes  # the whole panel and its footer are on screen
        # readable from across the room: type grows with the screen (about 2 % of its height a row)
        assert sizes["font"] >= height / 60, sizes
    finally:
        context.close()
