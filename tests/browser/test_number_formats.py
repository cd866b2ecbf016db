"""Numbers in one style (issue 17): no money of 1,000 or more without digit grouping and no count as "7.00 deals".
Read is what a person sees: the page's visible text and the values and placeholders of its fields. The patterns
live in `crawl.py`; `test_every_page.py` reads them on every page of every role. Here: the patterns themselves,
and a grouped quota cell that saves back.

What is left out, and why (docs/metrics.md, "Showing figures"):
- `pre` and `code`: machine formats shown verbatim (a quota CSV sample, a plan's YAML, JSON); a grouping comma
  there would be a column separator or change the value.
- Free-entry amount fields (`amount` on the deal and adjustment forms, a campaign's `cost`): what is shown is
  what is parsed, the deals CSV grammar, which has no grouping. Grid cells that are mostly read (quota and
  marketing targets) are grouped like the rest of the page, and their parser reads the grouping back.
- Years, dates, period keys and ids need no exception: none carries decimals, and an id's digits follow a letter
  or a dash (`CRM-1001`), which the pattern never starts after.
"""

from __future__ import annotations

import re

import pytest

from commissions.demo import DOMAIN
from tests.browser.crawl import number_problems
from tests.browser.test_roles_in_browser import sign_in

pytestmark = pytest.mark.browser


def test_the_patterns_find_what_the_issue_saw_and_leave_the_rest() -> None:
    seen = [
        "Next 49500.00 of bookings",
        "from 38075.00 to 44075.00",
        "target=1400000.00",
        "7.00 deals",
        "Ana closed Initech, 80000 USD",
        "Refund -12000.00",
        "12.00 MQLs",
    ]
    for text in seen:
        assert number_problems(text), text
    fine = [
        "Next 49,500.00 of bookings",
        "7 deals, 2.5 SQLs",
        "CRM-1001 Vandelay, 2026-12-02, 2026-Q4, version 1.0850",
        "83.5% of 1,400,000.00 USD",
        "person 1234 in 2026",
        "999.50 USD",
    ]
    for text in fine:
        assert number_problems(text) == [], text


def test_a_quota_cell_shows_its_target_grouped_and_saves_it_back(page, live_server: str) -> None:  # type: ignore[no-untyped-def]
    sign_in(page, live_server, f"east.manager@{DOMAIN}")
    page.goto(live_server + "/quotas")
    cell = page.locator("td.quota-cell:has(input[name=target][value*=','])").first
    cell_id = cell.get_attribute("id")
    value = cell.locator("input[name=target]").input_value()
    assert re.fullmatch(r"\d{1,3}(,\d{3})+\.\d\d", value), value
    # typed back as shown (grouped), the same target is saved and shown grouped again: nothing else changes
    page.fill(f"#{cell_id} input[name=target]", value)
    page.click(f"#{cell_id} button[type=submit]")
    page.wait_for_selector(f"#{cell_id}.saved, #{cell_id}.invalid")
    assert page.locator(f"#{cell_id} .error").count() == 0
    assert page.locator(f"#{cell_id} input[name=target]").input_value() == value
