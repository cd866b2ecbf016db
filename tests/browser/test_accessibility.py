"""axe-core in the browser: every main page of every role, at a laptop's and a phone's width, has no violation of
impact serious or critical against WCAG 2.0 A/AA and 2.1 AA (issue 17).

axe is read from node_modules/axe-core/axe.min.js (package.json; `make setup` runs `npm ci`) and evaluated in
the page through the DevTools protocol: the app's content security policy (script-src 'self') stays on, as a
user has it. A failure names the rule, the page and the element's selector.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlparse

import pytest

from commissions.demo import DOMAIN
from tests.browser.test_roles_in_browser import sign_in

pytestmark = pytest.mark.browser

AXE_JS = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21aa"]
BLOCKING = ("serious", "critical")
ROLES = ["ana.alvarez", "east.manager", "vp.sales", "nora.field", "marketing.lead", "finance", "admin"]
HREF = re.compile(r'href="([^"#]+)"')
SKIP = ("/logout", ".csv", ".xlsx", ".zip", ".css", ".js", "/download", "/export", "/api/", "/static/", "/stream")
MAX_PAGES = 45  # per role: every kind of page the role reaches (ids and people collapsed into one kind)

# The pages each role must have been through (a crawl that stops early must not pass quietly).
MUST_VISIT = {
    "ana.alvarez": ["/", "/leaderboard", "/statements", "/deals", "/deals/new", "/deals/N"],
    "east.manager": ["/", "/team", "/quotas", "/statements/E", "/deals/N"],
    "vp.sales": ["/", "/team", "/quotas", "/leaderboard"],
    "nora.field": ["/", "/statements", "/marketing", "/campaigns"],
    "marketing.lead": ["/", "/team", "/marketing", "/campaigns"],
    "finance": ["/", "/finance", "/finance/periods", "/finance/periods/N", "/finance/adjustments", "/deals/N"],
    "admin": ["/", "/admin/people", "/admin/audit", "/plans", "/plans/N", "/quotas"],
}


def axe_source() -> str:
    if not AXE_JS.exists():
        pytest.skip(f"{AXE_JS} is missing: run `npm ci` (make setup) to install axe-core")
    return AXE_JS.read_text(encoding="utf-8")


def axe_violations(page: Any, where: str) -> list[str]:
    """The page's serious and critical violations, one line each: rule (impact), page, selector, what is wrong."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(axe_source())
    found = page.evaluate(
        """async (tags) => {
            const r = await axe.run(document, {runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]});
            return r.violations.map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.map(n => ({
                target: n.target.join(" "), summary: (n.failureSummary || "").replace(/\\s+/g, " ").slice(0, 220),
            }))}));
        }""",
        TAGS,
    )
    lines = []
    for v in found:
        if v["impact"] not in BLOCKING:
            continue
        for node in v["nodes"][:5]:
            lines.append(f"{v['id']} ({v['impact']}) on {where}: {node['target']} :: {node['summary']}")
    return lines


def page_kind(path: str, *, people_too: bool = False) -> str:
    """/deals/17 and /deals/5 are one kind of page, and so are two people's statements (unless `people_too`)."""
    if not people_too:
        path = re.sub(r"/[^/]*(%40|@)[^/]*", "/E", path)
    return re.sub(r"/\d+(?=/|$)", "/N", re.sub(r"/\d{4}-(Q[1-4]|\d\d)(?=/|$)", "/N", path))


def tour(page: Any, base: str, max_pages: int = MAX_PAGES, *, people_too: bool = False) -> Iterator[str]:
    """Visit one page of each kind the signed-in user reaches from Home (links in page order, breadth first); yield
    each HTML page's path once it is loaded in `page`. `people_too`: each person's pages count as their own kind."""
    kinds: set[str] = set()
    queue = ["/"]
    visited = 0
    while queue and visited < max_pages:
        path = queue.pop(0)
        response = page.goto(base + path)
        visited += 1
        if response is None or response.status != 200 or "html" not in response.headers.get("content-type", ""):
            continue
        yield path
        for href in HREF.findall(page.content()):
            url = urlparse(urljoin(base + path, href.replace("&amp;", "&")))
            if url.netloc != urlparse(base).netloc or any(part in url.path for part in SKIP):
                continue
            kind = page_kind(url.path, people_too=people_too)
            if kind not in kinds:
                kinds.add(kind)
                queue.append(url.path)


PHONE_WIDTH = 390
PHONE_PAGES = 8


@pytest.mark.parametrize("width", [1366, PHONE_WIDTH])
@pytest.mark.parametrize("who", ROLES)
def test_every_page_of_every_role_is_axe_clean(browser, live_server: str, who: str, width: int) -> None:  # type: ignore[no-untyped-def]
    axe_source()
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    try:
        sign_in(page, live_server, f"{who}@{DOMAIN}")
        problems: list[str] = []
        kinds: set[str] = set()
        # Every kind of page at desktop width; on a phone the main pages (Home and the first pages it links, the
        # navigation), which share the layout, so CI stays within its time.
        for path in tour(page, live_server, MAX_PAGES if width > PHONE_WIDTH else PHONE_PAGES):
            kinds.add(page_kind(path))
            problems += axe_violations(page, f"{path} ({who}, {width} px)")
        if width > PHONE_WIDTH:
            missing = [k for k in MUST_VISIT[who] if k not in kinds]
            assert missing == [], f"the tour of {who} never reached {missing} (reached {sorted(kinds)})"
        assert problems == [], "\n" + "\n".join(problems)
    finally:
        context.close()


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
    page.click("#deal-form button[type=submit]")
    page.wait_for_url("**/deals?recorded=AXE-1")
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
