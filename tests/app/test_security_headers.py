"""Security headers on every response, no-store on data, HSTS and Secure cookies in production, allowed hosts."""

from __future__ import annotations

import pytest
from litestar.testing import TestClient
from pydantic import ValidationError
from sqlalchemy import Engine

from commissions.app.assembly import create_app
from commissions.app.headers import CSP, host_allowed
from commissions.core.settings import Settings
from tests.conftest import sign_in

ALWAYS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
}


def check(response) -> None:  # type: ignore[no-untyped-def]
    for name, value in ALWAYS.items():
        assert response.headers.get(name) == value, (response.request.url, name)
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert "unsafe-inline" not in CSP and "unsafe-eval" not in CSP
    assert "camera=()" in response.headers["permissions-policy"]


def test_every_kind_of_response_carries_the_headers_and_data_is_never_cached(client, make_person) -> None:
    make_person("ana@example.com")
    make_person("fin@example.com", "finance")
    anonymous = [
        client.get("/login"),
        client.get("/deals", follow_redirects=False),
        client.get("/api/v1/me"),
        client.get("/no/such/page"),
        client.post("/no/such/page"),
        client.request("TRACE", "/login"),
        client.get("/healthz"),
        client.get("/schema/openapi.json"),
    ]
    sign_in(client, "ana@example.com")
    signed_in = [
        client.get("/"),
        client.get("/statements/ana@example.com"),
        client.get("/admin/people"),
        client.get("/api/v1/deals"),
        client.get("/deals", headers={"HX-Request": "true"}),
    ]
    assert [r.status_code for r in anonymous] == [200, 302, 401, 404, 404, 405, 200, 200]
    assert signed_in[2].status_code == 403
    for response in anonymous + signed_in:
        check(response)
        assert response.headers["cache-control"] == "no-store", response.request.url
    static = client.get("/static/app.css")
    assert static.status_code == 200
    check(static)
    assert "no-store" not in static.headers.get("cache-control", "")
    assert "strict-transport-security" not in static.headers  # development: no HSTS


def test_an_unexpected_error_page_carries_the_headers(client, make_person, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import commissions.app.home as home

    make_person("ana@example.com")
    sign_in(client, "ana@example.com")

    def boom(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("boom")

    monkeypatch.setattr(home, "plan_progress", boom)
    response = client.get("/")
    assert response.status_code == 500
    check(response)
    assert response.headers["cache-control"] == "no-store"


@pytest.fixture
def production(engine: Engine, tmp_path) -> Settings:  # type: ignore[no-untyped-def]
    return Settings(
        environment="production",
        data_dir=tmp_path,
        database_url="sqlite://",
        secret_key="s" * 40,
        allowed_hosts=["pay.example.com", "*.corp.example.com"],
        principal_cache_seconds=0,
    )


def test_production_sends_hsts_and_secure_cookies(engine: Engine, production: Settings, make_person) -> None:
    make_person("ana@example.com")
    app = create_app(production, engine=engine)
    with TestClient(app=app, base_url="https://pay.example.com") as client:
        page = client.get("/login")
        assert page.headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"
        csrf = page.headers["set-cookie"]
        assert "csrftoken=" in csrf and "Secure" in csrf
        signed = sign_in(client, "ana@example.com")
        assert signed.status_code in (302, 303)
        session_cookie = [c for c in signed.headers.get_list("set-cookie") if c.startswith("qb_session=")]
        assert session_cookie and all("Secure" in c and "HttpOnly" in c for c in session_cookie)


def test_only_allowed_hosts_are_answered(engine: Engine, production: Settings) -> None:
    app = create_app(production, engine=engine)
    with TestClient(app=app, base_url="https://pay.example.com") as client:
        assert client.get("/login").status_code == 200
        assert client.get("/login", headers={"host": "pay.example.com:443"}).status_code == 200
        assert client.get("/login", headers={"host": "eu.corp.example.com"}).status_code == 200
        evil = client.get("/login", headers={"host": "evil.example"})
        assert evil.status_code == 400 and evil.text == "Invalid host header"
        check(evil)
        assert client.get("/login", headers={"host": "pay.example.com.evil.example"}).status_code == 400


def test_production_refuses_to_start_without_allowed_hosts(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError, match="ALLOWED_HOSTS"):
        Settings(environment="production", data_dir=tmp_path, secret_key="s" * 40)
    assert Settings(environment="development", data_dir=tmp_path).allowed_hosts == [
        "localhost",
        "127.0.0.1",
        "testserver",
        "[::1]",
    ]


def test_host_matching() -> None:
    assert host_allowed("Pay.Example.com:8443", ["pay.example.com"])
    assert host_allowed("[::1]:8000", ["[::1]"])
    assert not host_allowed("", ["pay.example.com"])
    assert not host_allowed("corp.example.com", ["*.corp.example.com"])
    assert host_allowed("anything", ["*"])
