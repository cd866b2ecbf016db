"""Screenshots of the revenue-marketing dashboard, the pulse question and a manager's team pulse.

    .venv/bin/python docs/screenshots/take_marketing.py

Starts the demo server like take.py (demo data includes lead events, marketing quotas and
pulses) and opens the pages in headless Chromium.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from playwright.sync_api import sync_playwright  # noqa: E402
from take import ARGS, serve, shot, sign_in  # noqa: E402


def main() -> None:
    proc, base = serve()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 800})

            sign_in(page, base, "marketing.lead")
            page.goto(base + "/marketing")
            page.wait_for_selector("#funnel-chart svg")
            shot(page, "18-marketing-dashboard")
            page.select_option("select[name=campaign]", "WEBINAR")  # htmx swaps the figures in place
            page.wait_for_selector("h2:has-text('WEBINAR')")
            shot(page, "19-marketing-dashboard-one-campaign")

            sign_in(page, base, "east.manager")
            page.goto(base + "/team#pulse")
            page.wait_for_selector("#enps-chart svg")
            page.locator("#pulse").screenshot(path=str(HERE / "20-team-pulse.png"))
            print("saved 20-team-pulse")

            sign_in(page, base, "gus.garcia")  # the East rep who has not answered the open pulse yet
            page.goto(base + "/pulse")
            page.wait_for_selector("fieldset.scale")
            shot(page, "21-pulse-question")
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)


if __name__ == "__main__":
    main()
