"""Screenshots of every role's Home, the leaderboard with its podium, a statement, the deal page and the
phone views, in English and in Thai (issue 17), from a real headless Chromium against the demo data.

    .venv/bin/python docs/screenshots/take_tour.py

The language is the browser's (Playwright's context locale sets ``Accept-Language``), as a person who
never chose one in their settings sees it. Files: ``tour-<locale>-<role>-<page>-<desktop|phone>.png``.
"""

from __future__ import annotations

from playwright.sync_api import Browser, Page, sync_playwright
from take import ARGS, HERE, serve, sign_in

ROLES = {
    "rep": "ana.alvarez",
    "manager": "east.manager",
    "vp": "vp.sales",
    "marketer": "marketing.lead",
    "finance": "finance",
    "admin": "admin",
}
LOCALES = {"en": "en-US", "th": "th-TH"}
WIDTHS = {"desktop": (1366, 900), "phone": (390, 844)}


def shot(page: Page, name: str) -> None:
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(300)  # the podium and charts settle
    page.screenshot(path=str(HERE / f"{name}.png"), full_page=True)
    print("saved", name)


def first_deal_href(page: Page, base: str) -> str | None:
    page.goto(base + "/deals")
    link = page.locator("table a[href^='/deals/']").first
    return link.get_attribute("href") if link.count() else None


def tour(browser: Browser, base: str, locale: str, accept: str) -> None:
    for width_name, (width, height) in WIDTHS.items():
        for role, who in ROLES.items():
            context = browser.new_context(viewport={"width": width, "height": height}, locale=accept)
            page = context.new_page()
            sign_in(page, base, who)
            prefix = f"tour-{locale}-{role}"
            shot(page, f"{prefix}-home-{width_name}")
            if role in ("rep", "manager"):
                page.goto(base + "/leaderboard")
                shot(page, f"{prefix}-leaderboard-{width_name}")
                page.goto(base + "/statements")
                shot(page, f"{prefix}-statement-{width_name}")
                href = first_deal_href(page, base)
                if href:
                    page.goto(base + href)
                    shot(page, f"{prefix}-deal-{width_name}")
            context.close()


def main() -> None:
    proc, base = serve()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            for locale, accept in LOCALES.items():
                tour(browser, base, locale, accept)
            browser.close()
    finally:
        proc.terminate()


if __name__ == "__main__":
    main()
