"""An admin writes a plan in the browser: an invalid plan shows its issues inline (htmx), the fixed one is saved."""

from __future__ import annotations

from datetime import date

import pytest

from commissions.demo import DEMO_PASSWORD, DOMAIN

pytestmark = pytest.mark.browser

INVALID = """name: Browser plan
currency: USD
period: quarter
quota: bookings
components:
  - name: Commission
    kind: tiered
    tiers:
      - {to: 100%, rate: 150%}
      - {rate: 15%}
  - name: Big deals
    kind: per_deal
    when: amount >> 50000
    pay: 250
"""
VALID = INVALID.replace("rate: 150%", "rate: 10%").replace("amount >> 50000", "amount >= 50000")


def test_admin_fixes_an_invalid_plan_and_saves_a_version(page, live_server: str) -> None:
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(live_server + "/login")
    page.fill("input[name=email]", f"admin@{DOMAIN}")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(live_server + "/")

    page.click("nav[aria-label=Main] >> text=Plans")
    page.wait_for_url(live_server + "/plans")
    page.click("text=New plan")
    page.wait_for_url(live_server + "/plans/new")

    page.fill("textarea[name=document]", INVALID)
    page.click("button:text('Validate')")
    page.wait_for_selector("#plan-issues tr.issue")
    assert page.url == live_server + "/plans/new"  # swapped in place by htmx, no navigation
    rows = page.locator("#plan-issues tr.issue").all_inner_texts()
    assert len(rows) == 2
    assert "Commission" in rows[0] and "tiers[0].rate" in rows[0] and "outside 0%-100%" in rows[0]
    assert "Big deals" in rows[1] and "when" in rows[1] and rows[1].strip().endswith("9")  # the second ">"
    assert page.input_value("textarea[name=document]") == INVALID  # what the admin wrote is kept

    page.fill("textarea[name=document]", VALID)
    page.click("button:text('Validate')")
    page.wait_for_selector("#plan-issues .notice.ok")
    assert "Valid: Browser plan, USD, quarter periods, 2 components" in page.inner_text("#plan-issues")
    assert page.locator("#plan-issues tr.issue").count() == 0

    next_year = f"{date.today().year + 1}-01-01"  # within the window of periods (at most a year ahead)
    page.fill("input[name=effective_from]", next_year)
    page.click("button:text('Save as new version')")
    page.wait_for_selector("text=Plan created with version 1.")
    assert page.locator("h1").inner_text() == "Browser plan"
    assert next_year in page.inner_text("section.card >> nth=0")
    page.click("text=View document")
    assert "amount >= 50000" in page.inner_text("pre.plan-document")
    assert errors == [], errors  # e.g. the content security policy blocking something
