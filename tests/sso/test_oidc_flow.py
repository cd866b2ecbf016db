"""Signing in with OpenID Connect against a real provider (tests/oidc_provider/server.js): the whole
authorization-code flow with PKCE, and every way it must be refused."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import pytest
from litestar.testing import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, select

from commissions.app.assembly import create_app
from commissions.auth.sessions import SESSION_COOKIE
from commissions.models import AuditEvent, Person
from commissions.sso import oidc
from tests.conftest import read
from tests.sso.conftest import (
    APP_BASE,
    CLIENT_ID,
    OTHER_ID,
    OTHER_SECRET,
    code_for,
    provider_login,
    sso_sign_in,
    start_sign_in,
)


def signed_in(client: TestClient) -> bool:
    return client.get("/", follow_redirects=False).status_code == 200


def events(engine: Engine, action: str) -> list[AuditEvent]:
    return read(engine, lambda s: list(s.exec(select(AuditEvent).where(AuditEvent.action == action)).all()))


def test_sign_in_with_pkce_rotates_the_session_and_is_audited(client, make_person, provider, engine: Engine) -> None:
    ana = make_person("ana@example.com")
    provider()
    authorize = start_sign_in(client, next_path="/deals")
    before = client.cookies.get(SESSION_COOKIE)
    assert before, "the pending sign-in (state, nonce, verifier) lives in a server-side session"
    query = parse_qs(urlsplit(authorize).query)
    assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) == 43
    assert query["client_id"] == [CLIENT_ID] and query["nonce"] and query["state"]
    assert "code_verifier" not in authorize and "verifier" not in authorize

    back = provider_login(authorize, "Ana@Example.com")  # the provider's email in another case: still ana
    answer = client.get(back.removeprefix(APP_BASE), follow_redirects=False)

    assert answer.status_code in (302, 303) and answer.headers["location"] == "/deals"
    after = client.cookies.get(SESSION_COOKIE)
    assert after and after != before, "a fresh session id at sign-in (no fixation)"
    home = client.get("/")
    assert home.status_code == 200 and "Hello, Ana" in home.text
    (event,) = events(engine, "auth.sign_in")
    assert event.actor_id == ana.id and event.detail["via"] == "sso" and event.detail["provider"] == "test"


def test_the_callback_url_works_once(client, make_person, provider, engine: Engine) -> None:
    """A replayed callback (state and code used already) is refused, in this browser and in another."""
    make_person("ana@example.com")
    provider()
    flow = sso_sign_in(client, "ana@example.com")
    assert flow.response.status_code in (302, 303)
    again = client.get(flow.callback, follow_redirects=False)
    assert again.status_code == 403 and "already used" in again.text
    with TestClient(app=client.app, base_url=APP_BASE) as other:
        replay = other.get(flow.callback, follow_redirects=False)
        assert replay.status_code == 403
        assert not signed_in(other)
    assert len(events(engine, "auth.sign_in")) == 1
    assert [e.detail["reason"] for e in events(engine, "auth.sso_failed")] == ["state", "state"]


def test_a_replayed_code_with_a_fresh_state_is_refused_by_the_provider(client, make_person, provider) -> None:
    """An attacker who saw a used code starts their own sign-in and feeds the code to it: redeemed once only."""
    make_person("ana@example.com")
    provider()
    flow = sso_sign_in(client, "ana@example.com")
    assert flow.response.status_code in (302, 303)
    used_code = parse_qs(urlsplit(flow.callback).query)["code"][0]
    with TestClient(app=client.app, base_url=APP_BASE) as attacker:
        state = parse_qs(urlsplit(start_sign_in(attacker)).query)["state"][0]
        answer = attacker.get(f"/login/sso/test/callback?code={used_code}&state={state}", follow_redirects=False)
        assert answer.status_code == 403 and "Signing in with Test IdP failed" in answer.text
        assert not signed_in(attacker)


def test_a_code_issued_to_another_client_is_refused(client, make_person, provider, op_issuer) -> None:
    make_person("ana@example.com")
    provider()
    foreign_code, _, _ = code_for(op_issuer, OTHER_ID, "ana@example.com", f"{APP_BASE}/login/sso/test/callback")
    state = parse_qs(urlsplit(start_sign_in(client)).query)["state"][0]
    answer = client.get(f"/login/sso/test/callback?code={foreign_code}&state={state}", follow_redirects=False)
    assert answer.status_code == 403
    assert not signed_in(client)


def test_an_id_token_for_another_audience_is_refused(op_issuer) -> None:
    """A genuine, signed ID token from the same provider, issued to another client: not ours."""
    redirect = f"{APP_BASE}/login/sso/other/callback"
    code, verifier, nonce = code_for(op_issuer, OTHER_ID, "ana@example.com", redirect)
    meta = oidc.discover(op_issuer)
    tokens = oidc.exchange(
        meta, client_id=OTHER_ID, client_secret=OTHER_SECRET, code=code, redirect_uri=redirect, verifier=verifier
    )
    assert oidc.validate_id_token(meta, tokens["id_token"], client_id=OTHER_ID, nonce=nonce)["email"]  # its own
    with pytest.raises(oidc.OidcError, match="aud"):
        oidc.validate_id_token(meta, tokens["id_token"], client_id=CLIENT_ID, nonce=nonce)
    with pytest.raises(oidc.OidcError, match="nonce"):
        oidc.validate_id_token(meta, tokens["id_token"], client_id=OTHER_ID, nonce="another browser's nonce")
    forged = tokens["id_token"][:-4] + ("AAAA" if not tokens["id_token"].endswith("AAAA") else "BBBB")
    with pytest.raises(oidc.OidcError, match="signature"):
        oidc.validate_id_token(meta, forged, client_id=OTHER_ID, nonce=nonce)


def test_an_expired_id_token_is_refused(client, make_person, provider, engine: Engine, monkeypatch) -> None:
    """The provider's ID tokens live an hour: read two hours later, the real token has expired."""
    make_person("ana@example.com")
    provider()
    authorize = start_sign_in(client)
    back = provider_login(authorize, "ana@example.com")
    monkeypatch.setattr(oidc, "clock", lambda: time.time() + 2 * 3600)
    answer = client.get(back.removeprefix(APP_BASE), follow_redirects=False)
    assert answer.status_code == 403 and "expired" in answer.text
    assert not signed_in(client)
    assert [e.detail["reason"] for e in events(engine, "auth.sso_failed")] == ["token"]


def test_an_unverified_email_is_refused(client, make_person, provider, engine: Engine) -> None:
    make_person("ana@example.com")
    provider(allow_signup=True)
    flow = sso_sign_in(client, "ana@example.com", verified=False)
    assert (
        flow.response.status_code == 403 and "did not confirm that your email address is verified" in flow.response.text
    )
    assert not signed_in(client)
    (failure,) = events(engine, "auth.sso_failed")
    assert failure.detail["reason"] == "email_not_verified" and failure.detail["email"] == "ana@example.com"


def test_an_unknown_email_is_refused_without_sign_up(client, provider, engine: Engine) -> None:
    provider(allow_signup=False)
    flow = sso_sign_in(client, "newcomer@example.com")
    assert flow.response.status_code == 403 and "no Quotaboard account for newcomer@example.com" in flow.response.text
    assert not signed_in(client)
    assert read(engine, lambda s: s.exec(select(Person)).all()) == []


def test_an_unknown_email_becomes_a_person_with_the_default_role_when_allowed(client, provider, engine) -> None:
    provider(allow_signup=True, default_role="manager")
    flow = sso_sign_in(client, "Newcomer@Example.com")
    assert flow.response.status_code in (302, 303)
    assert signed_in(client)
    person = read(engine, lambda s: s.exec(select(Person)).one())
    assert (person.email, person.role, person.password_hash, person.active) == (
        "newcomer@example.com",
        "manager",
        None,
        True,
    )
    assert events(engine, "sso.person_created")[0].detail == {"provider": "test", "role": "manager"}


def test_a_deactivated_person_is_refused(client, make_person, provider, engine: Engine) -> None:
    ana = make_person("ana@example.com")
    with Session(engine) as s:
        row = s.get(Person, ana.id)
        row.active = False
        s.add(row)
        s.commit()
    provider(allow_signup=True)
    flow = sso_sign_in(client, "ana@example.com")
    assert flow.response.status_code == 403 and "deactivated" in flow.response.text
    assert not signed_in(client)


def test_a_disabled_provider_cannot_be_used(client, make_person, provider, engine: Engine) -> None:
    make_person("ana@example.com")
    provider()
    authorize = start_sign_in(client)
    from commissions.models import SsoProvider

    with Session(engine) as s:
        row = s.exec(select(SsoProvider)).one()
        row.enabled = False
        s.add(row)
        s.commit()
    back = provider_login(authorize, "ana@example.com")
    assert client.get(back.removeprefix(APP_BASE), follow_redirects=False).status_code == 403
    assert client.post("/login/sso/test", data={"_csrf_token": client.cookies["csrftoken"]}).status_code == 404
    assert "Sign in with Test IdP" not in client.get("/login").text
    assert not signed_in(client)


def test_sso_failures_spend_the_address_budget(engine: Engine, settings, make_person, provider) -> None:
    """The sign-in limits of issue 10: refused callbacks count against the client address, and once its
    budget is spent even a good sign-in from there waits."""
    make_person("ana@example.com")
    provider()
    app = create_app(settings.model_copy(update={"login_max_failures_per_ip": 2}), engine=engine)
    with TestClient(app=app, base_url=APP_BASE) as client:
        assert client.get("/login/sso/test/callback?code=x&state=y").status_code == 403
        for _ in range(2):  # the failure that spends the budget locks the address, and says so (as passwords do)
            locked = client.get("/login/sso/test/callback?code=x&state=y")
            assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 0
        flow = sso_sign_in(client, "ana@example.com")
        assert flow.response.status_code == 429
        assert not signed_in(client)
    assert events(engine, "auth.locked_out")


def test_a_successful_sso_sign_in_gives_the_address_unit_back(engine: Engine, settings, make_person, provider) -> None:
    make_person("ana@example.com")
    provider()
    app = create_app(settings.model_copy(update={"login_max_failures_per_ip": 2}), engine=engine)
    with TestClient(app=app, base_url=APP_BASE) as client:
        for _ in range(3):
            client.cookies.clear()
            assert sso_sign_in(client, "ana@example.com").response.status_code in (302, 303)


def test_the_sign_in_page_offers_the_enabled_providers(client, provider, op_issuer) -> None:
    assert "form-action 'self';" in client.get("/login").headers["content-security-policy"]
    provider()
    page = client.get("/login")
    assert 'action="/login/sso/test"' in page.text and "Sign in with Test IdP" in page.text
    assert 'name="password"' in page.text  # password sign-in is on by default
    # browsers check form-action on the redirect a form submission leads to: the provider's origin is allowed
    assert f"form-action 'self' {op_issuer};" in page.headers["content-security-policy"]


def test_logout_ends_the_local_session(client, make_person, provider) -> None:
    make_person("ana@example.com")
    provider()
    assert sso_sign_in(client, "ana@example.com").response.status_code in (302, 303)
    assert client.post("/logout", data={"_csrf_token": client.cookies["csrftoken"]}).status_code in (200, 302, 303)
    assert not signed_in(client)


def test_an_answer_naming_another_issuer_is_refused(client, make_person, provider, op_issuer) -> None:
    """RFC 9207: the provider names itself in the callback (``iss``); another name is a mix-up attack."""
    make_person("ana@example.com")
    provider()
    back = provider_login(start_sign_in(client), "ana@example.com")
    assert f"iss={op_issuer.replace(':', '%3A').replace('/', '%2F')}" in back
    forged = back.replace("iss=http%3A%2F%2F127.0.0.1", "iss=http%3A%2F%2Fevil.example")
    answer = client.get(forged.removeprefix(APP_BASE), follow_redirects=False)
    assert answer.status_code == 403 and "did not come from Test IdP" in answer.text
    assert not signed_in(client)


def test_a_provider_error_is_refused_without_echoing_its_description(client, provider, engine: Engine) -> None:
    provider()
    state = parse_qs(urlsplit(start_sign_in(client)).query)["state"][0]
    answer = client.get(
        f"/login/sso/test/callback?error=access_denied&error_description=Call+0800+SCAM&state={state}",
        follow_redirects=False,
    )
    assert answer.status_code == 403 and "access_denied" in answer.text and "SCAM" not in answer.text
    assert [e.detail["reason"] for e in events(engine, "auth.sso_failed")] == ["provider_error"]
