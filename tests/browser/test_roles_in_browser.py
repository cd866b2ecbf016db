"""Sign in as each demo role in headless Chromium and use the pages that role has."""

from __future__ import annotations

import pytest

from commissions.demo import DEMO_PASSWORD, DOMAIN

pytestmark = pytest.mark.browser


def sign_in(page, base: str, email: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(base + "/")
    assert "/login" in page.url
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(base + "/")


@pytest.mark.parametrize(
    ("email", "links", "heading"),
    [
        (
            f"ana.alvarez@{DOMAIN}",
            ["Home", "Deals", "Statements", "Campaigns", "Marketing", "Pulse", "Leaderboard"],
            "Your quarter",
        ),
        (
            f"east.manager@{DOMAIN}",
            ["Home", "Deals", "Statements", "My team", "Quotas", "Campaigns", "Marketing", "Pulse", "Leaderboard"],
            "Your team this quarter",
        ),
        (
            f"finance@{DOMAIN}",
            [
                "Home",
                "Deals",
                "Statements",
                "Campaigns",
                "Marketing",
                "Periods",
                "Finance",
                "Rates",
                "Webhooks",
                "Leaderboard",
            ],
            "Periods",
        ),
        (
            f"admin@{DOMAIN}",
            [
                "Home",
                "Deals",
                "Quotas",
                "Campaigns",
                "Marketing",
                "Rates",
                "People",
                "Teams",
                "API tokens",
                "Plans",
                "Deal fields",
                "Audit log",
                "Webhooks",
                "Leaderboard",
                "Badges",
            ],
            "Organisation",
        ),
    ],
)
def test_each_role_signs_in_and_follows_every_link(
    page, live_server: str, email: str, links: list[str], heading: str
) -> None:
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    sign_in(page, live_server, email)
    assert page.locator("h2", has_text=heading).count() == 1
    assert page.locator("nav[aria-label=Main] a").all_inner_texts() == links
    for label in links:
        page.click(f"nav[aria-label=Main] >> text={label}")
        page.wait_for_load_state()
        assert page.locator("h1").count() == 1
        assert "Not allowed" not in page.content() and "Not found" not in page.content()
    assert page.evaluate("typeof htmx") == "object", "htmx did not load"
    assert errors == [], errors  # e.g. the content security policy blocking something
    page.click("text=Sign out")
    page.wait_for_url("**/login")


def test_rep_cannot_open_admin_pages(page, live_server: str) -> None:
    sign_in(page, live_server, f"ana.alvarez@{DOMAIN}")
    response = page.goto(live_server + "/admin/people")
    assert response.status == 403
    assert "Not allowed" in page.content()


def test_admin_adds_a_person_with_inline_validation(page, live_server: str) -> None:
    sign_in(page, live_server, f"admin@{DOMAIN}")
    page.goto(live_server + "/admin/people")
    page.fill("#new-person input[name=email]", f"ana.alvarez@{DOMAIN}")
    page.click("#new-person button[type=submit]")
    page.wait_for_selector("#new-person .error")
    assert "already exists" in page.inner_text("#new-person .error")
    page.fill("#new-person input[name=email]", "newhire@example.com")
    page.fill("#new-person input[name=name]", "New Hire")
    page.fill("#new-person input[name=manager]", f"east.manager@{DOMAIN}")
    page.click("#new-person button[type=submit]")
    page.wait_for_selector("td:text('newhire@example.com')")


def test_deals_period_filter_updates_the_table_in_place(page, live_server: str) -> None:
    sign_in(page, live_server, f"finance@{DOMAIN}")
    page.goto(live_server + "/deals")
    assert page.locator("#deals-table tbody tr").count() > 10
    page.fill("input[name=period]", "2020-Q1")
    page.press("input[name=period]", "Enter")
    page.wait_for_selector("text=No deals in this period.")
    assert "period=2020-Q1" in page.url
