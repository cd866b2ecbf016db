"""The admin's single sign-on page (providers, checked by discovery on save; the secret never shown again)
and turning password sign-in off without locking everyone out."""

from __future__ import annotations

from click.testing import CliRunner
from litestar.testing import TestClient
from sqlalchemy import Engine
from sqlmodel import select

from commissions.auth.sign_in_options import password_sign_in_enabled
from commissions.cli import main
from commissions.core.secret_box import decrypt
from commissions.models import AuditEvent, Person, SsoProvider
from commissions.sso.service import SECRET_PURPOSE
from tests.conftest import read, sign_in
from tests.sso.conftest import APP_BASE, CLIENT_ID, CLIENT_SECRET, sso_sign_in


def form(client: TestClient, **fields: str) -> dict[str, str]:
    return {"_csrf_token": client.cookies["csrftoken"], **fields}


def provider_form(client: TestClient, issuer: str, **changes: str) -> dict[str, str]:
    fields = {
        "slug": "okta",
        "label": "Okta",
        "issuer": issuer,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "scopes": "openid email profile",
        "default_role": "rep",
    }
    return form(client, **(fields | changes))


def login_page(client: TestClient) -> str:
    """The sign-in page as someone not signed in sees it."""
    with TestClient(app=client.app, base_url=APP_BASE) as anonymous:
        return anonymous.get("/login").text


def actions(engine: Engine, prefix: str) -> list[AuditEvent]:
    return read(
        engine,
        lambda s: list(s.exec(select(AuditEvent).where(AuditEvent.action.startswith(prefix)).order_by(AuditEvent.id))),
    )


def test_adding_a_provider_checks_discovery_and_hides_the_secret(
    client, make_person, op_issuer, engine, settings
) -> None:
    make_person("boss@example.com", "admin")
    assert sign_in(client, "boss@example.com").status_code in (302, 303)
    port = op_issuer.rsplit(":", 1)[1]

    unreachable = client.post("/admin/sso", data=provider_form(client, f"{op_issuer}/nowhere"))
    assert (
        unreachable.status_code == 400 and "discovery failed" in unreachable.text and "answered 404" in unreachable.text
    )
    mismatch = client.post("/admin/sso", data=provider_form(client, f"http://localhost:{port}"))
    assert mismatch.status_code == 400 and f"calls itself &#39;{op_issuer}&#39;" in mismatch.text
    plain_http = client.post("/admin/sso", data=provider_form(client, "http://idp.example.com"))
    assert plain_http.status_code == 400 and "https://" in plain_http.text
    no_email = client.post("/admin/sso", data=provider_form(client, op_issuer, scopes="openid"))
    assert no_email.status_code == 400 and "must include" in no_email.text
    for refused in (unreachable, mismatch, plain_http, no_email):
        assert CLIENT_SECRET not in refused.text  # the typed secret is not echoed back either
    assert read(engine, lambda s: s.exec(select(SsoProvider)).all()) == []

    added = client.post("/admin/sso", data=provider_form(client, op_issuer), follow_redirects=False)
    assert added.status_code == 303
    row = read(engine, lambda s: s.exec(select(SsoProvider)).one())
    assert row.client_secret_encrypted != CLIENT_SECRET
    assert decrypt(settings.secret_key, SECRET_PURPOSE, row.client_secret_encrypted) == CLIENT_SECRET
    listing = client.get("/admin/sso")
    edit = client.get(f"/admin/sso/{row.id}")
    assert "okta" in listing.text and f"{APP_BASE}/login/sso/okta/callback" in edit.text
    assert CLIENT_SECRET not in listing.text and CLIENT_SECRET not in edit.text
    (event,) = actions(engine, "sso.provider_add")
    assert event.detail["slug"] == "okta" and CLIENT_SECRET not in str(event.detail)
    duplicate = client.post("/admin/sso", data=provider_form(client, op_issuer))
    assert duplicate.status_code == 400 and "exists already" in duplicate.text


def test_editing_keeps_the_secret_unless_a_new_one_is_given(client, make_person, op_issuer, engine, settings) -> None:
    make_person("boss@example.com", "admin")
    sign_in(client, "boss@example.com")
    client.post("/admin/sso", data=provider_form(client, op_issuer))
    row = read(engine, lambda s: s.exec(select(SsoProvider)).one())

    kept = client.post(
        f"/admin/sso/{row.id}",
        data=provider_form(client, op_issuer, label="Company", client_secret=""),
        follow_redirects=False,
    )
    assert kept.status_code == 303
    row = read(engine, lambda s: s.exec(select(SsoProvider)).one())
    assert row.label == "Company"
    assert decrypt(settings.secret_key, SECRET_PURPOSE, row.client_secret_encrypted) == CLIENT_SECRET
    client.post(f"/admin/sso/{row.id}", data=provider_form(client, op_issuer, label="Company", client_secret="rotated"))
    row = read(engine, lambda s: s.exec(select(SsoProvider)).one())
    assert decrypt(settings.secret_key, SECRET_PURPOSE, row.client_secret_encrypted) == "rotated"
    assert [e.detail["changed"] for e in actions(engine, "sso.provider_update")] == [["label"], ["client_secret"]]
    broken = client.post(f"/admin/sso/{row.id}", data=provider_form(client, f"{op_issuer}/gone", label="Company"))
    assert broken.status_code == 400 and "discovery failed" in broken.text

    assert client.post(f"/admin/sso/{row.id}/disable", data=form(client), follow_redirects=False).status_code == 303
    assert "Sign in with Company" not in login_page(client)
    assert client.post(f"/admin/sso/{row.id}/enable", data=form(client), follow_redirects=False).status_code == 303
    assert "Sign in with Company" in login_page(client)
    assert [e.action for e in actions(engine, "sso.provider_")][-2:] == ["sso.provider_disable", "sso.provider_enable"]
    assert client.post("/admin/sso/999999/disable", data=form(client)).status_code == 404


def test_password_sign_in_off_without_locking_everyone_out(
    client, app, make_person, provider, engine, monkeypatch
) -> None:
    make_person("boss@example.com", "admin")
    make_person("ana@example.com")
    off = {"enabled": "off"}

    sign_in(client, "boss@example.com")
    no_provider = client.post("/admin/sso/password-sign-in", data=form(client, **off))
    assert no_provider.status_code == 409 and "no single sign-on provider is enabled" in no_provider.text
    provider()
    password_session = client.post("/admin/sso/password-sign-in", data=form(client, **off))
    assert (
        password_session.status_code == 409
        and "sign in through an enabled single sign-on provider" in password_session.text
    )
    assert read(engine, password_sign_in_enabled)

    with TestClient(app=app, base_url=APP_BASE) as admin:
        assert sso_sign_in(admin, "boss@example.com").response.status_code in (302, 303)
        turned = admin.post("/admin/sso/password-sign-in", data=form(admin, **off), follow_redirects=False)
        assert turned.status_code == 303
        assert not read(engine, password_sign_in_enabled)
        provider_id = read(engine, lambda s: s.exec(select(SsoProvider.id)).one())
        last = admin.post(f"/admin/sso/{provider_id}/disable", data=form(admin))
        assert last.status_code == 409 and "last enabled provider" in last.text

    with TestClient(app=app, base_url=APP_BASE) as rep:
        page = rep.get("/login")
        assert 'name="password"' not in page.text and "Sign in with Test IdP" in page.text
        refused = sign_in(rep, "ana@example.com")
        assert refused.status_code == 403 and "Password sign-in is turned off" in refused.text
        assert rep.get("/", follow_redirects=False).status_code in (302, 303)
        assert sso_sign_in(rep, "ana@example.com").response.status_code in (302, 303)  # SSO still works
        assert rep.get("/").status_code == 200

    assert [e.detail for e in actions(engine, "sso.password_sign_in")] == [{"enabled": False}]

    monkeypatch.setattr("commissions.core.db.get_engine", lambda: engine)
    listed = CliRunner().invoke(main, ["sso", "list"])
    assert listed.exit_code == 0 and "password sign-in: off" in listed.output and "test\tenabled" in listed.output
    result = CliRunner().invoke(main, ["sso", "password-login", "on"])
    assert result.exit_code == 0, result.output
    assert "Password sign-in is on" in result.output
    assert read(engine, password_sign_in_enabled)
    with TestClient(app=app, base_url=APP_BASE) as rep:
        assert sign_in(rep, "ana@example.com").status_code in (302, 303)


def test_api_tokens_work_with_password_sign_in_off(client, make_person, provider, engine) -> None:
    from commissions.auth.tokens import create_token
    from commissions.core.db import transaction
    from commissions.sso.service import set_password_sign_in

    boss = make_person("boss@example.com", "admin")
    provider()
    set_password_sign_in(engine, False, by=None, from_cli=True)
    with transaction(engine) as s:
        clear = create_token(s, name="hr sync", role="admin", person=s.get(Person, boss.id), created_by=None)[1]
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {clear}"})
    assert me.status_code == 200 and me.json()["email"] == "boss@example.com"
