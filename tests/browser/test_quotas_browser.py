"""A manager edits a quota cell inline in headless Chromium and sees the new value without a reload."""

from __future__ import annotations

import pytest

from commissions.demo import DEMO_PASSWORD, DOMAIN

pytestmark = pytest.mark.browser


def test_manager_edits_a_quota_cell_inline(page, live_server: str) -> None:  # type: ignore[no-untyped-def]
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(live_server + "/login")
    page.fill("input[name=email]", f"east.manager@{DOMAIN}")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(live_server + "/")
    page.click("nav[aria-label=Main] >> text=Quotas")
    page.wait_for_selector("table.quota-grid")
    page.evaluate("window.__noReload = true")  # gone if the page reloads

    cell = page.locator("td.quota-cell[id$='-bookings']").first
    cell_id = cell.get_attribute("id")
    target = page.locator(f"#{cell_id} input[name=target]")
    version_before = page.locator(f"#{cell_id} input[name=version]").get_attribute("value")
    target.fill("123,456.78")
    target.press("Enter")
    page.wait_for_selector(f"#{cell_id} .ok")
    assert page.locator(f"#{cell_id} input[name=target]").input_value() == "123,456.78"
    assert int(page.locator(f"#{cell_id} input[name=version]").get_attribute("value")) == int(version_before) + 1
    assert page.evaluate("window.__noReload") is True

    # invalid input comes back in place with its error, nothing else moves
    page.locator(f"#{cell_id} input[name=target]").fill("lots")
    page.locator(f"#{cell_id} button[type=submit]").click()
    page.wait_for_selector(f"#{cell_id} .error")
    assert "is not a number" in page.inner_text(f"#{cell_id} .error")
    assert page.evaluate("window.__noReload") is True

    page.reload()
    assert page.locator(f"#{cell_id} input[name=target]").input_value() == "123,456.78"
    assert errors == [], errors  # e.g. the content security policy blocking something
