"""The leaderboard updates itself: a deal recorded through the API moves its owner's row and is celebrated."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from datetime import date

import httpx
import pytest

from commissions.demo import DEMO_PASSWORD, DOMAIN

pytestmark = pytest.mark.browser


def admin_token(env: dict[str, str]) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "commissions.cli", "token", "create", "--name", "t", "--role", "admin"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout.strip().splitlines()[-1]


def wait_until(page, script: str, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    """Poll a function in the page (wait_for_function evaluates strings, which the page's CSP forbids)."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(script):
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {script}")
        page.wait_for_timeout(100)


def test_a_recorded_deal_moves_the_row_and_is_celebrated_without_reload(page, live_server: str, live_env) -> None:
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.add_init_script("document.addEventListener('htmx:sseOpen', () => { window.leaderboardLive = true; });")
    page.goto(live_server + "/login")
    page.fill("input[name=email]", f"ana.alvarez@{DOMAIN}")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(live_server + "/")
    page.click("nav[aria-label=Main] >> text=Leaderboard")
    page.wait_for_url("**/leaderboard")
    assert page.locator("#board tr.me[data-person='ana.alvarez@demo.quotaboard.dev']").count() == 1
    wait_until(page, "() => window.leaderboardLive === true")  # the event stream is open

    token = admin_token(live_env)
    headers = {"Authorization": f"Bearer {token}"}
    entries = httpx.get(live_server + "/api/v1/leaderboard", headers=headers, timeout=10).json()["entries"]
    last = next(e for e in reversed(entries) if e["attainment"] is not None)
    assert last["rank"] > 1
    row = page.locator(f"#board tr[data-person='{last['person']}']")
    assert row.get_attribute("data-rank") == str(last["rank"])
    page.evaluate("() => { document.querySelector('#board table').dataset.stale = 'yes'; window.sameDocument = true; }")

    deal = {
        "external_id": f"LIVE-{uuid.uuid4().hex[:8]}",
        "name": "Acme platform",
        "account": "Acme",
        "owner": last["person"],
        "amount": "2500000",
        "currency": "USD",
        "closed_at": date.today().isoformat(),
        "type": "new",
        "product": "Enterprise",
        "term_months": 12,
    }
    response = httpx.post(live_server + "/api/v1/deals", json=deal, headers=headers, timeout=30)
    assert response.status_code == 201, response.text

    page.locator(f"#board tr[data-person='{last['person']}'][data-rank='1']").wait_for(timeout=15_000)
    first_name = last["name"].split()[0]
    cheer = page.locator("#celebration .cheer")
    cheer.wait_for(timeout=10_000)
    assert cheer.inner_text() == f"{first_name} closed Acme, 2,500,000.00 USD"  # with its currency (issue 17)
    assert page.evaluate("document.querySelector('#board table').dataset.stale") is None  # the table was swapped
    assert page.locator("#board tr[data-person]").first.get_attribute("data-person") == last["person"]
    assert page.evaluate("window.sameDocument") is True and page.url.endswith("/leaderboard")  # no reload
    assert errors == [], errors
