"""One-click actions that move pay or access ask first (``data-confirm``, static/confirm.js): declining sends
nothing, so the deal is still won."""

from __future__ import annotations

import subprocess
import sys
from datetime import date

import httpx
import pytest

from commissions.demo import DOMAIN
from tests.browser.test_roles_in_browser import sign_in

pytestmark = pytest.mark.browser


def test_cancelling_a_deal_asks_first_and_declining_sends_nothing(page, live_server: str, live_env: dict) -> None:
    # a deal Ana recorded herself (the demo's loaded deals are not hers to change: nobody is known to have
    # recorded them), through the API with a token of her own
    token = (
        subprocess.run(
            [
                sys.executable,
                "-m",
                "commissions.cli",
                "token",
                "create",
                "--name",
                "confirm",
                "--as",
                f"ana.alvarez@{DOMAIN}",
            ],
            env=live_env,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    deal = {
        "external_id": "CONFIRM-1",
        "name": "Confirm me",
        "owner": f"ana.alvarez@{DOMAIN}",
        "amount": "1000",
        "currency": "USD",
        "closed_at": date.today().isoformat(),
    }
    recorded = httpx.post(live_server + "/api/v1/deals", json=deal, headers={"Authorization": f"Bearer {token}"})
    assert recorded.status_code in (200, 201), recorded.text
    sign_in(page, live_server, f"ana.alvarez@{DOMAIN}")
    page.goto(live_server + "/deals?q=CONFIRM-1&period=all")
    page.locator("table a[href^='/deals/']").first.click()
    page.wait_for_selector("details.cancel-deal summary")
    deal_url = page.url
    status_before = page.inner_text(".deal-status")
    asked: list[str] = []
    posted: list[str] = []
    page.on("request", lambda request: posted.append(request.url) if request.method == "POST" else None)

    def decline(dialog) -> None:  # type: ignore[no-untyped-def]
        asked.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", decline)
    page.click("details.cancel-deal summary")  # the form is behind a disclosure
    page.click("#cancel-deal button[type=submit]")
    page.wait_for_timeout(300)
    assert asked and asked[0].startswith("Cancel this deal?")
    assert posted == [] and page.url == deal_url
    page.reload()
    assert page.inner_text(".deal-status") == status_before
