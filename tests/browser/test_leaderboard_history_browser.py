"""The leaderboard's form says what the board shows after Back and Forward: htmx restores a board from its
history with the form as it was when that page was left (the selects' values are not in its snapshot), so
``board.js`` sets the form again from the board's own description (``.board-says``)."""

from __future__ import annotations

import pytest

from commissions.demo import DOMAIN
from tests.browser.test_roles_in_browser import sign_in

pytestmark = pytest.mark.browser


def _shown(page) -> tuple[tuple[str, str], tuple[str, str]]:  # type: ignore[no-untyped-def]
    """(the form's view and metric, the board's view and metric)."""
    form = (
        page.eval_on_selector("#board-form select[name=view]", "e => e.value"),
        page.eval_on_selector("#board-form select[name=metric]", "e => e.value"),
    )
    board = (
        page.get_attribute("#board .board-says", "data-view"),
        page.get_attribute("#board .board-says", "data-metric"),
    )
    return form, board


def _settled(page, view: str, metric: str) -> None:  # type: ignore[no-untyped-def]
    page.wait_for_function(
        "([v, m]) => { const s = document.querySelector('#board .board-says');"
        " return s && s.dataset.view === v && s.dataset.metric === m; }",
        arg=[view, metric],
    )


def test_back_and_forward_leave_the_form_saying_what_the_board_shows(browser, live_server: str) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    try:
        sign_in(page, live_server, f"east.manager@{DOMAIN}")
        page.goto(live_server + "/leaderboard")
        start = _shown(page)
        assert start[0] == start[1]
        page.select_option("#board-form select[name=metric]", "deals")
        _settled(page, start[1][0], "deals")
        other_view = next(
            v
            for v in page.eval_on_selector_all("#board-form select[name=view] option", "os => os.map(o => o.value)")
            if v not in (start[1][0], "team")
        )
        page.select_option("#board-form select[name=view]", other_view)
        _settled(page, other_view, "deals")
        steps = [
            (page.go_back, (start[1][0], "deals")),
            (page.go_back, start[1]),
            (page.go_forward, (start[1][0], "deals")),
            (page.go_forward, (other_view, "deals")),
        ]
        for step, expected in steps:
            step()
            _settled(page, *expected)
            page.wait_for_timeout(100)  # the restore's scripts have run
            form, board = _shown(page)
            assert board == expected
            assert form == board, (step.__name__, form, board)
    finally:
        context.close()
