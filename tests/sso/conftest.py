"""A real OpenID provider for the SSO tests: tests/oidc_provider/server.js (panva's certified oidc-provider)
started once per test session on a free port. Skipped only when ``node`` is missing."""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from litestar.testing import TestClient
from sqlalchemy import Engine

from commissions.core.principal import Principal
from commissions.sso import oidc
from commissions.sso.service import ProviderFields, add_provider
from tests.conftest import csrf_from

PROVIDER_DIR = Path(__file__).resolve().parents[1] / "oidc_provider"
APP_BASE = "http://127.0.0.1:8000"
CLIENT_ID, CLIENT_SECRET = "quotaboard", "quotaboard-secret"
OTHER_ID, OTHER_SECRET = "other-app", "other-app-secret"
SLUGS = ("test", "other")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def op_issuer() -> Iterator[str]:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: the SSO tests need a real OpenID provider (tests/oidc_provider)")
    if not (PROVIDER_DIR / "node_modules" / "oidc-provider").is_dir():
        npm = shutil.which("npm")
        assert npm, "npm is needed to install tests/oidc_provider (npm ci)"
        subprocess.run([npm, "ci", "--prefix", str(PROVIDER_DIR), "--no-audit", "--no-fund"], check=True)
    port = _free_port()
    redirects = ",".join(f"{APP_BASE}/login/sso/{slug}/callback" for slug in SLUGS)
    env = {**os.environ, "PORT": str(port), "REDIRECT_URIS": redirects}
    process = subprocess.Popen(
        [node, str(PROVIDER_DIR / "server.js")], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    issuer = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                if httpx.get(oidc.discovery_url(issuer), timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert process.poll() is None, "the test OpenID provider exited at start"
            assert time.monotonic() < deadline, "the test OpenID provider did not start within 20 s"
            time.sleep(0.1)
        yield issuer
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(autouse=True)
def _forget_provider_metadata() -> Iterator[None]:
    oidc.forget()
    yield
    oidc.forget()


@pytest.fixture
def provider(engine: Engine, make_person, op_issuer: str, settings):  # type: ignore[no-untyped-def]
    """An enabled provider "test" (client quotaboard) added the way the admin page adds one."""

    def make(*, allow_signup: bool = False, default_role: str = "rep", slug: str = "test") -> None:
        admin = Principal(role="admin", person_id=None, email="setup@example.com", name="setup")
        fields = ProviderFields(
            slug=slug,
            label="Test IdP",
            issuer=op_issuer,
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            allow_signup=allow_signup,
            default_role=default_role,
        )
        add_provider(engine, fields, secret_key=settings.secret_key, by=admin)

    return make


@dataclass
class Flow:
    authorize_url: str  # where the app sent the browser
    callback: str  # the app's callback path and query the provider sent the browser back to
    response: httpx.Response  # the app's answer to the callback


def provider_login(authorize_url: str, email: str, verified: bool = True) -> str:
    """Play the browser at the provider: sign in as ``email`` and follow its redirects until it sends the
    browser back to the app; the URL it sends it to."""
    with httpx.Client(timeout=10) as browser:
        host = urlsplit(authorize_url).hostname or ""
        browser.cookies.set("test_login", email, domain=host)
        browser.cookies.set("test_verified", "1" if verified else "0", domain=host)
        url = authorize_url
        for _ in range(10):
            answer = browser.get(url, follow_redirects=False)
            assert answer.status_code in (302, 303), (url, answer.status_code, answer.text[:500])
            url = str(answer.url.join(answer.headers["location"]))
            if url.startswith(APP_BASE):
                return url
        raise AssertionError("the provider never sent the browser back to the app")


def start_sign_in(client: TestClient, slug: str = "test", next_path: str = "/") -> str:
    answer = client.post(
        f"/login/sso/{slug}", data={"_csrf_token": csrf_from(client), "next": next_path}, follow_redirects=False
    )
    assert answer.status_code == 303, answer.text[:500]
    return answer.headers["location"]


def sso_sign_in(client: TestClient, email: str, *, verified: bool = True, slug: str = "test") -> Flow:
    """The whole authorization-code flow: the app → the provider (signs in) → the app's callback."""
    authorize = start_sign_in(client, slug)
    back = provider_login(authorize, email, verified)
    callback = back.removeprefix(APP_BASE)
    return Flow(authorize, callback, client.get(callback, follow_redirects=False))


def code_for(issuer: str, client_id: str, email: str, redirect_uri: str) -> tuple[str, str, str]:
    """A code the provider issued to ``client_id`` (run as that other relying party): (code, verifier, nonce)."""
    verifier, nonce = secrets.token_urlsafe(48), secrets.token_urlsafe(16)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    query = {
        "client_id": client_id,
        "response_type": "code",
        "scope": "openid email profile",
        "redirect_uri": redirect_uri,
        "state": secrets.token_urlsafe(16),
        "nonce": nonce,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    back = provider_login(f"{oidc.discover(issuer)['authorization_endpoint']}?{urlencode(query)}", email)
    return parse_qs(urlsplit(back).query)["code"][0], verifier, nonce
