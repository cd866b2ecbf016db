"""The password pages in headless Chromium at desktop and phone width: an admin's one-time reset link,
the person setting a new password through it, then changing it on /account/password."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from commissions.demo import DEMO_PASSWORD, DOMAIN

pytestmark = pytest.mark.browser

SHOTS = Path(__file__).resolve().parents[2] / "data" / "screenshots"
WIDTHS = {"desktop": (1280, 800), "phone": (390, 844)}


def _sign_in(page, base: str, email: str, password: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(base + "/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("main button[type=submit]")
    page.wait_for_url(base + "/")


def _fits(page) -> None:  # type: ignore[no-untyped-def]
    """Nothing wider than the screen (a long reset link wraps or scrolls inside its box)."""
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


@pytest.mark.parametrize("width", list(WIDTHS))
def test_reset_link_then_own_password_change(browser, live_server: str, live_env: dict[str, str], width: str) -> None:
    email = f"pw.{width}@{DOMAIN}"
    first, second, third = "first passphrase 1", "second passphrase 2", "third passphrase 3"
    added = subprocess.run(
        [sys.executable, "-m", "commissions.cli", "user", "add", email, "--role", "rep", "--password-stdin"],
        env=live_env,
        input=first + "\n",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert added.returncode == 0, added.stderr
    SHOTS.mkdir(parents=True, exist_ok=True)
    w, h = WIDTHS[width]
    errors: list[str] = []

    admin_ctx = browser.new_context(viewport={"width": w, "height": h})
    admin = admin_ctx.new_page()
    admin.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    _sign_in(admin, live_server, f"admin@{DOMAIN}", DEMO_PASSWORD)
    admin.goto(live_server + "/admin/people/")
    admin.locator("tr", has_text=email).locator("a", has_text="Password").click()
    admin.wait_for_load_state()
    assert admin.locator("h1").inner_text().startswith("Password of")
    admin.click("button:has-text('Create a reset link')")
    admin.wait_for_load_state()
    link = admin.locator("pre.token").inner_text().strip()
    assert "/password-reset/" in link
    _fits(admin)
    admin.screenshot(path=str(SHOTS / f"password-reset-link-{width}.png"), full_page=True)

    person_ctx = browser.new_context(viewport={"width": w, "height": h})
    person = person_ctx.new_page()
    person.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    person.goto(link)
    assert person.locator("h1").inner_text() == "Set a new password"
    _fits(person)
    person.screenshot(path=str(SHOTS / f"password-reset-form-{width}.png"), full_page=True)
    person.fill("input[name=new_password]", second)
    person.fill("input[name=confirm_password]", second)
    person.click("main button[type=submit]")
    person.wait_for_url("**/login?reason=password_set")
    assert "Your new password is set" in person.content()
    _sign_in(person, live_server, email, second)

    person.click(f"header .who a:has-text('{email.split('@')[0]}')")
    person.wait_for_url("**/account/password")
    person.fill("input[name=current_password]", "not it at all")
    person.fill("input[name=new_password]", third)
    person.fill("input[name=confirm_password]", third)
    person.click("main button[type=submit]")
    assert "Your current password is wrong." in person.locator("[role=alert]").inner_text()
    person.fill("input[name=current_password]", second)
    person.fill("input[name=new_password]", third)
    person.fill("input[name=confirm_password]", third)
    person.click("main button[type=submit]")
    person.wait_for_url("**/account/password?saved=1")
    assert "Your password was changed" in person.locator("[role=status]").inner_text()
    _fits(person)
    person.screenshot(path=str(SHOTS / f"password-changed-{width}.png"), full_page=True)
    person.goto(live_server + "/")
    assert person.url.rstrip("/") == live_server  # still signed in here

    person.goto(link)  # used: never again
    assert "not valid any more" in person.content()
    # the 400 of the wrong current password and the 404 of the used link are expected; nothing else
    assert [e for e in errors if "status of 400" not in e and "status of 404" not in e] == [], errors
    admin_ctx.close()
    person_ctx.close()
