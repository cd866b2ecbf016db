"""One attainment per person on every screen (issue 17), read in headless Chromium from the demo organisation.

For every demo rep (sales and marketing): the attainment on Home, on their statement and on the leaderboard
(company or marketing board) are the same text. For every manager (the regional managers, the VP, the
marketing lead): their own attainment on Home and on My team is their statement's, and each report's row on
My team is the report's statement figure. Before issue 17, Home counted raw bookings (renewals too), the
board truncated, and managers and marketers saw 0.0 % or "no quota".
"""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from commissions.demo import DEMO_PASSWORD

pytestmark = pytest.mark.browser

ATTAINMENT = ".attainment"


def people(live_env: dict[str, str], role: str) -> list[tuple[str, str]]:
    """(email, team kind) of the demo's active people of a role, by email."""
    engine = create_engine(live_env["DATABASE_URL"])
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT p.email, COALESCE(t.kind, '') FROM person p LEFT JOIN team t ON t.id = p.team_id"
                    " WHERE p.role = :role AND p.active ORDER BY p.email"
                ),
                {"role": role},
            ).all()
    finally:
        engine.dispose()
    return [(email, kind) for email, kind in rows]


def sign_in(page, base: str, email: str) -> None:  # type: ignore[no-untyped-def]
    page.context.clear_cookies()
    page.goto(base + "/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(base + "/")


def own_figure(page) -> str:  # type: ignore[no-untyped-def]
    """The signed-in person's attainment in their own figures card (Home, My team)."""
    return page.locator(f".my-figures {ATTAINMENT}").first.inner_text().strip()


def statement_figure(page, base: str, email: str) -> str:  # type: ignore[no-untyped-def]
    page.goto(f"{base}/statements/{email}")
    shown = page.locator(f"section.card {ATTAINMENT}").all_inner_texts()
    assert shown, f"no attainment on {email}'s statement"
    return shown[0].strip()


def board_figures(page, base: str, view: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    page.goto(f"{base}/leaderboard?view={view}&everyone=true")
    out: dict[str, str] = {}
    for row in page.locator("#board tr[data-person]").all():
        cell = row.locator(ATTAINMENT)
        if cell.count():
            out[str(row.get_attribute("data-person"))] = cell.inner_text().strip()
    return out


def settled(read_a, read_b, tries: int = 5):  # type: ignore[no-untyped-def]
    """Two readings taken one after the other; again if a recompute landed between them (the worker runs beside)."""
    for _ in range(tries):
        a, b = read_a(), read_b()
        if a == b:
            return a, b
    return a, b


def test_every_rep_sees_one_attainment_on_home_statement_and_leaderboard(page, live_server: str, live_env) -> None:  # type: ignore[no-untyped-def]
    reps = people(live_env, "rep")
    assert len(reps) >= 20
    sign_in(page, live_server, "finance@demo.quotaboard.dev")
    board = {**board_figures(page, live_server, "company"), **board_figures(page, live_server, "marketing")}
    mismatches = []
    for email, _kind in reps:
        sign_in(page, live_server, email)
        home, statement = settled(
            lambda: (page.goto(live_server + "/"), own_figure(page))[1],
            lambda e=email: statement_figure(page, live_server, e),
        )
        if not (home == statement == board.get(email)):
            mismatches.append((email, home, statement, board.get(email)))
        assert home.endswith("%") and "." in home  # one decimal: "86.2%"
    assert mismatches == []


@pytest.mark.parametrize(
    "email",
    [
        "vp.sales@demo.quotaboard.dev",
        "east.manager@demo.quotaboard.dev",
        "west.manager@demo.quotaboard.dev",
        "central.manager@demo.quotaboard.dev",
        "marketing.lead@demo.quotaboard.dev",
    ],
)
def test_managers_vp_and_marketing_lead_see_their_real_attainment(page, live_server: str, email: str) -> None:  # type: ignore[no-untyped-def]
    sign_in(page, live_server, email)
    statement = statement_figure(page, live_server, email)
    page.goto(live_server + "/")
    assert own_figure(page) == statement
    page.goto(live_server + "/team")
    assert own_figure(page) == statement
    rows = page.locator("table.progress tr[data-person]").all()
    assert rows, "the team table is empty"
    team = {str(r.get_attribute("data-person")): r.locator(ATTAINMENT).inner_text().strip() for r in rows}
    for report, shown in list(team.items())[:4]:  # a few reports: their statement says the same
        assert statement_figure(page, live_server, report) == shown, report
    if email != "marketing.lead@demo.quotaboard.dev":  # the sales plans' managers are well above zero
        assert float(statement.rstrip("%").replace(",", "")) > 100
    else:  # credited what her team sources, as /marketing shows it (not 0 % on the marketers' own-credit plan)
        assert float(statement.rstrip("%").replace(",", "")) > 50
        page.goto(live_server + "/marketing")
        assert statement in page.inner_text("main"), "the marketing dashboard shows her the same attainment"


def test_marketers_see_their_sourced_revenue_quota_in_words(page, live_server: str, live_env) -> None:  # type: ignore[no-untyped-def]
    for email, kind in people(live_env, "rep"):
        if kind != "marketing":
            continue
        sign_in(page, live_server, email)
        card = page.locator(".my-figures")
        assert "no quota" not in card.inner_text()
        assert "sourced revenue: won deals from your campaigns" in card.inner_text()
        assert card.locator("a[href^='/help/figures']").count() == 1
        assert own_figure(page) == statement_figure(page, live_server, email)


@pytest.mark.parametrize("width", [1366, 390])
def test_own_figures_fit_desktop_and_phone(browser, live_server: str, width: int) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    try:
        for email in ("ana.alvarez@demo.quotaboard.dev", "vp.sales@demo.quotaboard.dev"):
            sign_in(page, live_server, email)
            card = page.locator(".my-figures").first
            box = card.bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width + 1
            assert card.evaluate("el => el.scrollWidth <= el.clientWidth + 1")
    finally:
        context.close()
