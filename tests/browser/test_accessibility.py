"""axe-core in the browser on what a walk of the pages does not see (issue 17): pages in their states (an error, a
confirmation, an answer), and a probe proving the check is live. Every page of every role at both widths is read
by `test_every_page.py`.

axe is read from node_modules/axe-core/axe.min.js (package.json; `make setup` runs `npm ci`) and evaluated in
the page through the DevTools protocol: the app's content security policy (script-src 'self') stays on, as a
user has it. A failure names the rule, the page and the element's selector.
"""

from __future__ import annotations

import pytest

from commissions.demo import DOMAIN
from tests.browser.crawl import axe_source, axe_violations
from tests.browser.test_roles_in_browser import sign_in

pytestmark = pytest.mark.browser


def test_pages_in_their_states_are_axe_clean(page, live_server: str) -> None:  # type: ignore[no-untyped-def]
    """What a crawl does not see: sign-in with its error, a form showing an inline error, the confirmation after
    a save, the what-if's answer, a page that does not exist."""
    axe_source()
    problems: list[str] = []
    page.goto(live_server + "/login")
    problems += axe_violations(page, "/login")
    page.fill("input[name=email]", f"nobody@{DOMAIN}")
    page.fill("input[name=password]", "wrong password")
    page.click("button[type=submit]")
    page.wait_for_selector(".alert:not(:empty)")
    problems += axe_violations(page, "/login with a wrong password")

    sign_in(page, live_server, f"ana.alvarez@{DOMAIN}")
    page.goto(live_server + "/deals/new")
    page.fill("#deal-form input[name=amount]", "12.345")
    page.press("#deal-form input[name=amount]", "Tab")
    page.wait_for_selector("#error-amount:not(:empty)")
    problems += axe_violations(page, "/deals/new with an inline error")

    page.fill("#deal-form input[name=name]", "Axe Labs platform")
    page.fill("#deal-form input[name=account]", "Axe Labs")
    page.fill("#deal-form input[name=amount]", "21000")
    page.fill("#deal-form input[name=external_id]", "AXE-1")
    page.wait_for_load_state("networkidle")  # the live checks of the fields typed, before saving
    page.click("#deal-form button[type=submit]")
    page.wait_for_url("**/deals?recorded=AXE-1&*")
    problems += axe_violations(page, "/deals?recorded=AXE-1")

    page.goto(live_server + "/statements")
    page.fill("form.what-if-form input[name=amount]", "40000")
    page.click("form.what-if-form button[type=submit]")
    page.wait_for_selector("#what-if .what-if-answer")
    problems += axe_violations(page, "/statements with the what-if's answer")

    page.goto(live_server + "/no-such-page")
    problems += axe_violations(page, "a missing page")
    assert problems == [], "\n" + "\n".join(problems)


def test_axe_finds_what_it_should(page, live_server: str) -> None:  # type: ignore[no-untyped-def]
    """The check is live: an unlabelled field and grey-on-grey text on a real page are reported, named."""
    sign_in(page, live_server, f"ana.alvarez@{DOMAIN}")
    page.goto(live_server + "/deals/new")
    page.evaluate(
        """() => {
            const input = document.createElement("input"); input.id = "axe-probe"; document.querySelector("main").append(input);
            const p = document.createElement("p"); p.id = "axe-grey"; p.textContent = "faint";
            p.style.color = "#ccc"; p.style.background = "#fff"; document.querySelector("main").append(p);
        }"""
    )
    found = "\n".join(axe_violations(page, "/deals/new (probed)"))
    assert "label (critical) on /deals/new (probed): #axe-probe" in found
    assert "color-contrast (serious) on /deals/new (probed): #axe-grey" in found
