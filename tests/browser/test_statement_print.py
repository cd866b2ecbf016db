"""A statement prints as a clean page: no navigation, forms or buttons; a header naming the person and period."""

from __future__ import annotations

import pytest

from commissions.demo import DOMAIN
from tests.browser.test_roles_in_browser import sign_in

pytestmark = pytest.mark.browser


def test_statement_prints_as_a_clean_page(page, live_server: str) -> None:
    sign_in(page, live_server, f"ana.alvarez@{DOMAIN}")
    page.goto(live_server + "/statements")
    page.wait_for_selector("table.lines")
    assert page.is_visible("button[data-print]") and page.is_visible("nav[aria-label=Main]")
    assert not page.is_visible(".print-header")

    page.emulate_media(media="print")
    assert not page.is_visible("nav[aria-label=Main]") and not page.is_visible(".topbar")
    assert not page.is_visible("button[data-print]") and page.locator("form:visible").count() == 0
    assert page.locator("button:visible").count() == 0 and page.locator(".dispute-flag:visible").count() == 0
    header = page.inner_text(".print-header")
    assert "Ana Alvarez" in header and "Commission statement" in header and "Period 20" in header
    assert page.is_visible("table.lines")
    styles = page.evaluate("""() => {
        const s = getComputedStyle(document.querySelector('table.lines'));
        const b = getComputedStyle(document.body);
        return [s.breakInside, b.color, b.backgroundColor];
    }""")
    assert styles == ["avoid", "rgb(0, 0, 0)", "rgb(255, 255, 255)"]
    pdf = page.pdf(format="A4", print_background=False)
    assert pdf.startswith(b"%PDF") and len(pdf) > 5_000
