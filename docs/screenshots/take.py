"""Take the screenshots in this folder from a real headless Chromium against the demo data.

    .venv/bin/python docs/screenshots/take.py

Starts `commissions demo` + `commissions run` on a temporary SQLite file, signs in as
each role and saves PNGs next to this script.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from playwright.sync_api import Page, sync_playwright

HERE = Path(__file__).resolve().parent
DOMAIN = "demo.quotaboard.dev"
PASSWORD = "quotaboard-demo"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def serve() -> tuple[subprocess.Popen, str]:
    tmp = Path(tempfile.mkdtemp(prefix="qb-shots-"))
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp / 'demo.db'}", "DATA_DIR": str(tmp)}
    subprocess.run([sys.executable, "-m", "commissions.cli", "demo"], env=env, check=True, capture_output=True)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "commissions.cli", "run", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            httpx.get(base + "/login", timeout=1)
            break
        except httpx.HTTPError:
            time.sleep(0.1)
    return proc, base


def sign_in(page: Page, base: str, who: str) -> None:
    page.context.clear_cookies()
    page.goto(base + "/login")
    page.fill("input[name=email]", f"{who}@{DOMAIN}")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(base + "/")


def shot(page: Page, name: str) -> None:
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(HERE / f"{name}.png"), full_page=True)
    print("saved", name)


def main() -> None:
    proc, base = serve()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.goto(base + "/login")
            shot(page, "01-sign-in")

            sign_in(page, base, "ana.alvarez")
            shot(page, "02-rep-home")
            page.goto(base + "/statements")
            page.fill("input[name=amount]", "40000")
            page.click("text=Show me")
            page.wait_for_selector(".what-if-answer")
            shot(page, "03-rep-statement-with-what-if")
            page.goto(base + "/deals/new")
            page.fill("input[name=amount]", "12.345")
            page.press("input[name=amount]", "Tab")
            page.wait_for_selector("#error-amount:not(:empty)")
            shot(page, "04-rep-deal-form-inline-error")

            sign_in(page, base, "east.manager")
            page.goto(base + "/team")
            shot(page, "05-manager-team")
            page.goto(base + "/quotas")
            shot(page, "06-manager-quota-grid")

            sign_in(page, base, "nora.field")
            page.goto(base + "/statements")
            shot(page, "07-marketer-statement")
            page.goto(base + "/campaigns")
            shot(page, "08-campaigns")

            sign_in(page, base, "finance")
            page.goto(base + "/statements")
            shot(page, "09-finance-statements")
            page.goto(base + "/deals/import")
            shot(page, "10-finance-import")

            sign_in(page, base, "admin")
            page.goto(base + "/plans")
            shot(page, "11-admin-plans")
            page.goto(base + "/admin/tokens")
            shot(page, "12-admin-tokens")
            finance_shots(page, base)
            browser.close()
    finally:
        proc.terminate()
        proc.wait(10)


def finance_shots(page: Page, base: str) -> None:
    """Finance closing the books: a manual adjustment on a statement, and the approval page."""
    from datetime import date

    from commissions.core.periods import quarter_of

    key = quarter_of(date.today()).key
    sign_in(page, base, "finance")
    page.goto(base + f"/finance/periods/{key}")
    page.click(f"text=Approve {key}")  # approved; the adjustment below reopens it and shows as a change
    page.wait_for_load_state("networkidle")
    page.goto(base + f"/finance/adjustments?person=ana.alvarez%40{DOMAIN}&period={key}")
    page.fill("input[name=amount]", "750.00")
    page.fill("input[name=reason]", "Spot bonus: rescued the Northwind renewal")
    page.click("text=Book adjustment")
    page.wait_for_selector("#adjustments")
    shot(page, "13-finance-statement-with-adjustment")
    page.goto(base + f"/finance/periods/{key}")
    shot(page, "14-finance-approval")


if __name__ == "__main__":
    main()
