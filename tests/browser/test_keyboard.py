"""Keyboard only (issue 17): Tab reaches the leaderboard's view switch and filters and the keys work them; a deal
is recorded and the what-if answered without a mouse; focus is always visible (a 2px outline, not the browser's
1px ring); a skip link jumps over the navigation."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from commissions.demo import DOMAIN
from tests.browser.test_roles_in_browser import sign_in

pytestmark = pytest.mark.browser
MAX_TABS = 80

FOCUSED = """() => {
    const el = document.activeElement;
    if (!el || el === document.body) return null;
    return {tag: el.tagName.toLowerCase(), name: el.getAttribute("name") || "", type: el.getAttribute("type") || "",
            text: (el.innerText || el.value || "").trim().slice(0, 60), href: el.getAttribute("href") || ""};
}"""


def tab_to(page: Any, selector: str, *, start_over: bool = True) -> int:
    """Press Tab (from the top of the page, or from where focus is) until the focused element matches `selector`;
    the number of presses. Fails when Tab never gets there."""
    if start_over:
        page.evaluate("() => { document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0); }")
    for presses in range(1, MAX_TABS + 1):
        page.keyboard.press("Tab")
        if page.evaluate("(sel) => document.activeElement.matches(sel)", selector):
            return presses
    raise AssertionError(f"{MAX_TABS} presses of Tab never reached {selector} (last: {page.evaluate(FOCUSED)})")


def test_tab_reaches_the_leaderboard_view_switch_and_filters_and_keys_work_them(page, live_server: str) -> None:  # type: ignore[no-untyped-def]
    sign_in(page, live_server, f"ana.alvarez@{DOMAIN}")
    page.goto(live_server + "/leaderboard")
    before = page.inner_text("#board")

    tab_to(page, "[name=view]")
    first = page.eval_on_selector("[name=view]", "el => el.value")
    page.keyboard.press("ArrowDown")  # a closed select moves to the next view; htmx fetches the board for it
    page.wait_for_function(
        "(v) => new URLSearchParams(location.search).get('view') && new URLSearchParams(location.search).get('view') !== v",
        arg=first,
    )
    chosen = parse_qs(urlparse(page.url).query)["view"][0]
    assert chosen != first
    page.wait_for_function("(b) => document.querySelector('#board').innerText !== b", arg=before)

    # the "Around me" filter: Tab to it, Space ticks it, the board narrows to the people around the viewer
    tab_to(page, "[name=around_me]", start_over=False)
    page.keyboard.press("Space")
    assert page.is_checked("[name=around_me]")
    page.wait_for_function("() => document.querySelector('#board').innerText.includes('around you')")

    # Enter on the form's button shows the board for the chosen filters, as a page of its own (a URL to share)
    tab_to(page, "#board-form button[type=submit]", start_over=False)
    page.keyboard.press("Enter")
    page.wait_for_function("() => new URLSearchParams(location.search).get('around_me') === 'true'")
    assert parse_qs(urlparse(page.url).query)["view"] == [chosen]
    assert "around you" in page.inner_text("#board")


def test_a_deal_is_recorded_with_the_keyboard_only(page, live_server: str) -> None:  # type: ignore[no-untyped-def]
    sign_in(page, live_server, f"ana.alvarez@{DOMAIN}")
    page.goto(live_server + "/deals/new")
    typed = {"name": "Keyboard Ltd platform", "account": "Keyboard Ltd", "amount": "27500", "external_id": "KB-1"}
    tab_to(page, "#deal-form input[name=name]")
    for _ in range(MAX_TABS):
        focused = page.evaluate(FOCUSED)
        assert focused is not None and focused["tag"] in ("input", "select", "button", "a"), focused
        if focused["tag"] == "button":
            assert focused["type"] == "submit", focused
            break
        if focused["name"] in typed:
            page.keyboard.type(typed.pop(focused["name"]))
        page.keyboard.press("Tab")
    assert typed == {}, f"Tab never reached the fields {sorted(typed)}"
    page.keyboard.press("Enter")
    page.wait_for_url("**/deals?recorded=KB-1&*")
    page.goto(live_server + "/statements")
    assert "KB-1 Keyboard Ltd platform" in page.content()


def test_the_what_if_works_with_the_keyboard(page, live_server: str) -> None:  # type: ignore[no-untyped-def]
    sign_in(page, live_server, f"ana.alvarez@{DOMAIN}")
    page.goto(live_server + "/statements")
    tab_to(page, "form.what-if-form input[name=amount]")
    page.keyboard.type("40000")
    page.keyboard.press("Enter")  # Enter in a field submits its form: the answer comes in place
    answer = page.wait_for_selector("#what-if .what-if-answer")
    assert answer is not None and "+" in answer.inner_text()
    assert page.get_attribute("#what-if", "aria-live") == "polite", "the answer is announced to screen readers"
    assert "/statements" in page.url


@pytest.mark.parametrize(
    ("path", "selector"),
    [
        ("/deals/new", "header a.brand"),  # a link
        ("/deals/new", "#deal-form input[name=name]"),  # a text field
        ("/deals/new", "#deal-form select[name=owner]"),  # a select
        ("/deals/new", "#deal-form button[type=submit]"),  # a button
        ("/statements", "main a[href]"),  # a link in the page
    ],
)
def test_keyboard_focus_is_visible(page, live_server: str, path: str, selector: str) -> None:  # type: ignore[no-untyped-def]
    sign_in(page, live_server, f"ana.alvarez@{DOMAIN}")
    page.goto(live_server + path)
    tab_to(page, selector)
    outline = page.evaluate(
        """() => { const s = getComputedStyle(document.activeElement);
                   return {style: s.outlineStyle, width: parseFloat(s.outlineWidth), color: s.outlineColor}; }"""
    )
    assert outline["style"] not in ("none", "auto"), f"{selector} on {path}: no outline of our own: {outline}"
    assert outline["width"] >= 2, f"{selector} on {path}: a {outline['width']}px outline is too thin to see"


def test_the_skip_link_comes_first_and_jumps_over_the_navigation(page, live_server: str) -> None:  # type: ignore[no-untyped-def]
    sign_in(page, live_server, f"east.manager@{DOMAIN}")
    page.goto(live_server + "/team")
    assert tab_to(page, "a.skip-link") == 1
    assert page.evaluate("() => document.activeElement.getBoundingClientRect().left >= 0"), "shown when focused"
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.querySelector('main').contains(document.activeElement)"), page.evaluate(
        FOCUSED
    )
