"""Single sign-on in headless Chromium at desktop width: "Sign in with …" on the sign-in page, through a
real OpenID provider (tests/oidc_provider/server.js) and back, signed in."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from commissions.core.db import make_engine
from commissions.core.principal import Principal
from commissions.core.settings import Settings
from commissions.demo import DOMAIN
from commissions.sso import oidc
from commissions.sso.service import ProviderFields, add_provider, set_enabled
from tests.sso.conftest import CLIENT_ID, CLIENT_SECRET, PROVIDER_DIR, _free_port

pytestmark = pytest.mark.browser

SHOTS = Path(__file__).resolve().parents[2] / "data" / "screenshots"


@pytest.fixture
def browser_provider(live_server: str, live_env: dict[str, str]) -> Iterator[str]:
    """The provider, registered for the live server's callback, added to the live server's database as
    "test"; disabled afterwards so the other browser tests see the usual sign-in page."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    if not (PROVIDER_DIR / "node_modules" / "oidc-provider").is_dir():
        subprocess.run(["npm", "ci", "--prefix", str(PROVIDER_DIR), "--no-audit", "--no-fund"], check=True)
    port = _free_port()
    env = {**os.environ, "PORT": str(port), "REDIRECT_URIS": f"{live_server}/login/sso/browser/callback"}
    process = subprocess.Popen(
        [node, str(PROVIDER_DIR / "server.js")], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    issuer = f"http://127.0.0.1:{port}"
    engine = make_engine(live_env["DATABASE_URL"])
    try:
        for _ in range(200):
            try:
                if httpx.get(oidc.discovery_url(issuer), timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        settings = Settings()  # the server's SECRET_KEY: it runs with this process's environment
        fields = ProviderFields("browser", "Company SSO", issuer, CLIENT_ID, CLIENT_SECRET)
        setup = Principal(role="admin", person_id=None, email="browser-test", name="browser test")
        row = add_provider(engine, fields, secret_key=settings.secret_key, by=setup)
        yield issuer
        set_enabled(engine, row.id or 0, False, by=setup)
    finally:
        engine.dispose()
        process.terminate()
        process.wait(timeout=10)


def test_sign_in_with_the_company_account(browser, live_server: str, browser_provider: str) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    # the provider's test login signs in the account named by this cookie (cookies ignore the port)
    context.add_cookies([{"name": "test_login", "value": f"ana.alvarez@{DOMAIN}", "url": browser_provider}])
    page = context.new_page()
    try:
        page.goto(live_server + "/login")
        button = page.get_by_role("button", name="Sign in with Company SSO")
        assert button.is_visible()
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "sso-sign-in-desktop.png"))
        button.click()
        page.wait_for_url(live_server + "/")
        assert "Hello, Ana" in page.content()
    finally:
        context.close()
