"""Tokens act for a person with their role; reactivation revives no token; webhook junk is counted, not
audited; CSRF tokens belong to one session; Host is parsed strictly; passwords can be changed (own page,
admin's one-time reset link, the command line), each ending old sessions and audited (issue 14)."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import timedelta

import pytest
from litestar.testing import TestClient
from sqlalchemy import Engine, func, update
from sqlmodel import select

from commissions.auth.tokens import TokenError, create_token
from commissions.core.db import transaction
from commissions.core.principal import Principal
from commissions.models import ApiToken, AuditEvent, PasswordReset, Person
from commissions.models.base import utcnow
from commissions.people.service import set_active
from tests.conftest import PASSWORD, csrf_from, read, sign_in

NEW = "a brand new passphrase"


def events(engine: Engine, action: str) -> list[AuditEvent]:
    return read(engine, lambda s: list(s.exec(select(AuditEvent).where(AuditEvent.action == action)).all()))


def person(engine: Engine, email: str) -> Person:
    return read(engine, lambda s: s.exec(select(Person).where(Person.email == email)).one())


def admin_principal(p: Person) -> Principal:
    return Principal(role="admin", person_id=p.id, email=p.email, name=p.name)


def post_form(client: TestClient, path: str, data: dict, **kwargs):  # type: ignore[no-untyped-def]
    return client.post(
        path, data={**data, "_csrf_token": client.cookies["csrftoken"]}, follow_redirects=False, **kwargs
    )


# ---- tokens ---------------------------------------------------------------------------------------


def test_an_admin_cannot_mint_a_finance_token_and_a_token_acts_with_its_persons_role(
    client, make_person, engine: Engine
) -> None:
    make_person("root@example.com", "admin")
    make_person("ana@example.com")
    make_person("fin@example.com", "finance")
    sign_in(client, "root@example.com")
    for form in (
        {"name": "payroll", "role": "finance", "as_email": ""},
        {"name": "payroll", "role": "finance", "as_email": "ana@example.com"},
        {"name": "payroll", "role": "", "as_email": "fin@example.com"},
    ):
        page = post_form(client, "/admin/tokens/", form)
        assert page.status_code == 200 and 'class="alert"' in page.text and "qb_" not in page.text
    assert read(engine, lambda s: s.exec(select(func.count()).select_from(ApiToken)).one()) == 0

    # a token acting for ana would read ana's pay, which an admin does not: refused, nothing stored
    refused = post_form(client, "/admin/tokens/", {"name": "ana's script", "role": "", "as_email": "ana@example.com"})
    assert refused.status_code == 200 and "reads their pay: they make it themselves" in refused.text
    assert read(engine, lambda s: s.exec(select(func.count()).select_from(ApiToken)).one()) == 0
    # ana makes her own on her account page; it acts as her, with her role
    sign_in(client, "ana@example.com")
    made = post_form(client, "/account/tokens/", {"name": "ana's script"})
    assert made.status_code == 303 and made.headers["location"] == "/account/tokens"  # Post/Redirect/Get
    shown = client.get("/account/tokens").text
    clear = re.search(r"qb_[\w-]+", shown).group(0)  # type: ignore[union-attr]
    assert clear not in client.get("/account/tokens").text  # shown once: a reload shows it no more
    headers = {"Authorization": f"Bearer {clear}"}
    assert client.get("/api/v1/me", headers=headers).json()["role"] == "rep"
    assert client.get("/api/v1/payouts/2026-Q1.csv", headers=headers).status_code == 403
    assert client.post("/account/tokens/", headers=headers, json={}).status_code in (401, 403)  # no token makes tokens
    # ana revokes her own token; nobody else's is hers to revoke (404, as for no token at all)
    with transaction(engine) as s:
        fin_token = create_token(
            s,
            name="payroll",
            role=None,
            person=s.exec(select(Person).where(Person.email == "fin@example.com")).one(),
            created_by=None,
        )[0].id
    own = read(engine, lambda s: s.exec(select(ApiToken.id).where(ApiToken.name == "ana's script")).one())
    assert post_form(client, f"/account/tokens/{fin_token}/revoke", {}).status_code == 404
    gone = post_form(client, f"/account/tokens/{own}/revoke", {})
    assert gone.status_code == 303 and "Revoked" in client.get(gone.headers["location"]).text
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    assert read(engine, lambda s: s.get(ApiToken, fin_token).revoked_at) is None

    with transaction(engine) as s:  # the service says the same, whoever the person
        root = admin_principal(s.exec(select(Person).where(Person.email == "root@example.com")).one())
        fin = s.exec(select(Person).where(Person.email == "fin@example.com")).one()
        with pytest.raises(TokenError):
            create_token(s, name="x", role=None, person=fin, created_by=root)
        with pytest.raises(TokenError):
            create_token(s, name="x", role="finance", person=None, created_by=None)
        # an operator may make finance's token, acting for the finance person
        _, finance_clear = create_token(s, name="payroll", role=None, person=fin, created_by=None)
    assert client.get(
        "/api/v1/payouts/2026-Q1.csv", headers={"Authorization": f"Bearer {finance_clear}"}
    ).status_code in (200, 404, 409)


def test_a_token_made_before_the_rule_follows_its_persons_role_not_its_own(client, make_person, engine: Engine) -> None:
    """A row from before: role finance, bound to a rep (an admin could make it). It acts as the rep."""
    rep = make_person("ana@example.com")
    with transaction(engine) as s:
        _, clear = create_token(s, name="legacy", role=None, person=s.get(Person, rep.id), created_by=None)
        s.execute(update(ApiToken).values(role="finance"))
        _, unbound = create_token(s, name="legacy2", role="rep", person=None, created_by=None)
        s.execute(update(ApiToken).where(ApiToken.name == "legacy2").values(role="finance"))
    assert client.get("/api/v1/payouts/2026-Q1.csv", headers={"Authorization": f"Bearer {clear}"}).status_code == 403
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {clear}"}).json()["role"] == "rep"
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {unbound}"}).status_code == 401


def test_reactivation_does_not_revive_old_tokens(client, make_person, engine: Engine) -> None:
    ana = make_person("ana@example.com")
    with transaction(engine) as s:
        _, clear = create_token(s, name="ana", role=None, person=s.get(Person, ana.id), created_by=None)
    headers = {"Authorization": f"Bearer {clear}"}
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    with transaction(engine) as s:
        set_active(s, s.get(Person, ana.id), False, by=None)
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    with transaction(engine) as s:
        set_active(s, s.get(Person, ana.id), True, by=None)
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    assert read(engine, lambda s: s.exec(select(ApiToken)).one().revoked_at) is not None
    assert len(events(engine, "token.revoke")) == 1


# ---- webhooks: junk ---------------------------------------------------------------------------


def test_unauthenticated_webhook_junk_is_counted_and_rate_limited_not_audited_row_by_row(
    client, make_person, engine: Engine, settings
) -> None:
    from commissions.webhooks.junk import WEBHOOK_JUNK_LIMIT
    from commissions.webhooks.service import create_integration

    with transaction(engine) as s:
        create_integration(s, name="hubspot", secret_key=settings.secret_key, by=None)
    statuses = [
        client.post(
            f"/api/v1/webhooks/crm/{name}/deals",
            content=b"{}",
            headers={
                "content-type": "application/json",
                "webhook-id": "x",
                "webhook-timestamp": "1",
                "webhook-signature": "v1,bm9wZQ==",
            },
        ).status_code
        for name in ["hubspot", "nobody"] * 100
    ]
    assert 500 not in statuses
    assert set(statuses[:WEBHOOK_JUNK_LIMIT]) <= {400, 401}
    assert set(statuses[WEBHOOK_JUNK_LIMIT:]) == {429}
    assert (
        read(
            engine,
            lambda s: s.exec(
                select(func.count()).select_from(AuditEvent).where(AuditEvent.action.like("webhook.%"))
            ).one(),
        )
        == 2
    )  # create + one throttle
    assert len(events(engine, "webhook.junk_throttled")) == 1


# ---- CSRF and Host ------------------------------------------------------------------------------


def test_a_csrf_token_from_another_session_is_refused(app, make_person, engine: Engine) -> None:
    make_person("ana@example.com")
    make_person("bo@example.com")
    with (
        TestClient(app=app, base_url="http://127.0.0.1:8000") as attacker,
        TestClient(app=app, base_url="http://127.0.0.1:8000") as victim,
    ):
        sign_in(attacker, "bo@example.com")
        planted = attacker.cookies["csrftoken"]  # valid for the attacker's own session
        sign_in(victim, "ana@example.com")
        own = victim.cookies["csrftoken"]
        assert own != planted
        victim.cookies.set("csrftoken", planted)  # e.g. tossed from a sibling subdomain: sent beside the real one
        forged = victim.post("/account/sign-out-everywhere", data={"_csrf_token": planted}, follow_redirects=False)
        assert forged.status_code == 403
        assert person(engine, "ana@example.com").session_version == 1
        victim.cookies.delete("csrftoken", domain="")
        assert victim.cookies["csrftoken"] == own
        assert victim.post(
            "/account/sign-out-everywhere", data={"_csrf_token": own}, follow_redirects=False
        ).status_code in (302, 303)


def test_a_session_whose_csrf_cookie_was_lost_gets_its_own_token_again(client, make_person, engine: Engine) -> None:
    """The CSRF cookie ends when the browser closes, the session cookie later: the next page restores it."""
    make_person("ana@example.com")
    sign_in(client, "ana@example.com")
    bound = client.cookies["csrftoken"]
    client.cookies.delete("csrftoken")
    page = client.get("/")
    assert page.status_code == 200 and bound in page.text and client.cookies["csrftoken"] == bound
    assert client.post(
        "/account/sign-out-everywhere", data={"_csrf_token": bound}, follow_redirects=False
    ).status_code in (302, 303)


@pytest.mark.parametrize(
    "host",
    [
        "localhost:80@evil.com",
        "evil.com#@localhost",
        "localhost:80/evil",
        "local host",
        "localhost:8o",
        "localhost:80:80",
        "user@localhost",
    ],
)
def test_host_headers_are_parsed_strictly(client, host: str) -> None:
    response = client.get("/login", headers={"host": host})
    assert response.status_code == 400  # by the Host check, or earlier by the URL parser for some
    if host in ("localhost:80@evil.com", "user@localhost"):  # syntactically fine for Litestar: ours refuses it
        assert response.text == "Invalid host header"
    assert client.get("/login", headers={"host": "localhost:8000"}).status_code == 200


# ---- change your own password ---------------------------------------------------------------------


def test_changing_your_password_needs_the_current_one_and_ends_every_other_session(
    app, make_person, engine: Engine
) -> None:
    make_person("ana@example.com")
    with (
        TestClient(app=app, base_url="http://127.0.0.1:8000") as phone,
        TestClient(app=app, base_url="http://127.0.0.1:8000") as laptop,
    ):
        sign_in(phone, "ana@example.com")
        sign_in(laptop, "ana@example.com")
        assert "Change your password" in laptop.get("/account/password").text

        wrong = post_form(
            laptop,
            "/account/password/",
            {"current_password": "not my password", "new_password": NEW, "confirm_password": NEW},
        )
        assert wrong.status_code == 400 and "Your current password is wrong." in wrong.text
        differ = post_form(
            laptop,
            "/account/password/",
            {"current_password": PASSWORD, "new_password": NEW, "confirm_password": NEW + "!"},
        )
        assert differ.status_code == 400 and "differ" in differ.text
        short = post_form(
            laptop,
            "/account/password/",
            {"current_password": PASSWORD, "new_password": "short", "confirm_password": "short"},
        )
        assert short.status_code == 400 and "at least 10" in short.text
        unchanged = post_form(
            laptop,
            "/account/password/",
            {"current_password": PASSWORD, "new_password": PASSWORD, "confirm_password": PASSWORD},
        )
        assert unchanged.status_code == 400 and "not your current one" in unchanged.text
        assert "Your password was changed" not in unchanged.text
        assert person(engine, "ana@example.com").session_version == 1

        saved = post_form(
            laptop, "/account/password/", {"current_password": PASSWORD, "new_password": NEW, "confirm_password": NEW}
        )
        assert saved.status_code in (302, 303) and saved.headers["location"] == "/account/password?saved=1"
        confirmation = laptop.get("/account/password?saved=1")
        assert confirmation.status_code == 200 and "Your password was changed" in confirmation.text
        assert phone.get("/", follow_redirects=False).status_code in (302, 303)  # the other session ended
        assert laptop.get("/").status_code == 200  # this one carries on
        assert [e.detail for e in events(engine, "person.password")] == [{"how": "own"}]
        assert len(events(engine, "auth.password_change_failed")) == 1
    with TestClient(app=app, base_url="http://127.0.0.1:8000") as fresh:
        assert sign_in(fresh, "ana@example.com").status_code == 401
        assert sign_in(fresh, "ana@example.com", NEW).status_code in (302, 303)


def test_guessing_the_current_password_spends_the_sign_in_budget(client, make_person) -> None:
    make_person("ana@example.com")
    sign_in(client, "ana@example.com")
    statuses = [
        post_form(
            client,
            "/account/password/",
            {"current_password": f"guess number {i}", "new_password": NEW, "confirm_password": NEW},
        ).status_code
        for i in range(7)
    ]
    assert statuses[:4] == [400] * 4 and statuses[4:] == [429] * 3
    right = post_form(
        client, "/account/password/", {"current_password": PASSWORD, "new_password": NEW, "confirm_password": NEW}
    )
    assert right.status_code == 429


# ---- admin-issued one-time reset link -----------------------------------------------------------


def _issue_link(client: TestClient, person_id: int) -> str:
    page = post_form(client, f"/admin/people/{person_id}/password/reset-link", {})
    assert page.status_code == 200, page.text
    return re.search(r"http://[^<\s]+/password-reset/[\w-]+", page.text).group(0)  # type: ignore[union-attr]


def test_a_reset_link_is_shown_once_works_once_and_ends_old_sessions(app, make_person, engine: Engine) -> None:
    make_person("root@example.com", "admin")
    ana = make_person("ana@example.com")
    with (
        TestClient(app=app, base_url="http://127.0.0.1:8000") as admin,
        TestClient(app=app, base_url="http://127.0.0.1:8000") as old_session,
        TestClient(app=app, base_url="http://127.0.0.1:8000") as ana_browser,
    ):
        sign_in(admin, "root@example.com")
        sign_in(old_session, "ana@example.com")
        link = _issue_link(admin, ana.id)
        token = link.rsplit("/", 1)[1]
        again = admin.get(f"/admin/people/{ana.id}/password")
        assert token not in again.text and "still unused" in again.text  # shown once
        assert token not in repr(read(engine, lambda s: [tuple(r) for r in s.exec(select(PasswordReset.token_hash))]))

        path = link.split("8000", 1)[1]
        form = ana_browser.get(path)
        assert form.status_code == 200 and "Set a new password" in form.text
        done = post_form(ana_browser, path, {"new_password": NEW, "confirm_password": NEW})
        assert done.status_code in (302, 303) and done.headers["location"] == "/login?reason=password_set"
        assert "Your new password is set" in ana_browser.get("/login?reason=password_set").text
        assert old_session.get("/", follow_redirects=False).status_code in (302, 303)
        assert sign_in(ana_browser, "ana@example.com", NEW).status_code in (302, 303)

        with TestClient(app=app, base_url="http://127.0.0.1:8000") as thief:  # used once: never again
            assert thief.get(path).status_code == 404
            assert (
                post_form(
                    thief, path, {"new_password": "thief password 1", "confirm_password": "thief password 1"}
                ).status_code
                == 404
            )
        assert [e.detail.get("how") for e in events(engine, "person.password")] == ["reset link"]
        assert len(events(engine, "person.password_reset_link")) == 1


def test_a_reset_link_expires_and_a_newer_one_replaces_it(app, make_person, engine: Engine) -> None:
    make_person("root@example.com", "admin")
    ana = make_person("ana@example.com")
    with (
        TestClient(app=app, base_url="http://127.0.0.1:8000") as admin,
        TestClient(app=app, base_url="http://127.0.0.1:8000") as ana_browser,
    ):
        sign_in(admin, "root@example.com")
        first = _issue_link(admin, ana.id).split("8000", 1)[1]
        second = _issue_link(admin, ana.id).split("8000", 1)[1]
        assert ana_browser.get(first).status_code == 404
        assert ana_browser.get(second).status_code == 200
        with transaction(engine) as s:
            s.execute(update(PasswordReset).values(expires_at=utcnow() - timedelta(seconds=1)))
        assert ana_browser.get(second).status_code == 404
        csrf_from(ana_browser)
        assert post_form(ana_browser, second, {"new_password": NEW, "confirm_password": NEW}).status_code == 404
    assert person(engine, "ana@example.com").session_version == 1


def test_only_admins_issue_reset_links(client, make_person, engine: Engine) -> None:
    make_person("fin@example.com", "finance")
    ana = make_person("ana@example.com")
    sign_in(client, "fin@example.com")
    assert client.get(f"/admin/people/{ana.id}/password").status_code == 403
    assert post_form(client, f"/admin/people/{ana.id}/password/reset-link", {}).status_code == 403
    assert read(engine, lambda s: s.exec(select(func.count()).select_from(PasswordReset)).one()) == 0


# ---- the command line ---------------------------------------------------------------------------


def test_operators_set_a_password_from_standard_input(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import os

    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", "DATA_DIR": str(tmp_path)}

    def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "commissions.cli", *args],
            env=env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
        )

    assert run("db", "upgrade").returncode == 0
    assert (
        run("user", "add", "ana@example.com", "--role", "rep", "--password-stdin", stdin=PASSWORD + "\n").returncode
        == 0
    )
    done = run("user", "set-password", "ana@example.com", "--password-stdin", stdin=NEW + "\n")
    assert done.returncode == 0 and NEW not in done.stdout + done.stderr
    assert run("user", "set-password", "ana@example.com", "--password-stdin", stdin="short\n").returncode != 0
    assert run("user", "set-password", "nobody@example.com", "--password-stdin", stdin=NEW + "\n").returncode != 0
    assert run("user", "set-password", "ana@example.com").returncode != 0  # never as an argument or prompt

    from commissions.auth.passwords import verify_password
    from commissions.core.db import make_engine

    engine = make_engine(env["DATABASE_URL"])
    try:
        stored = read(engine, lambda s: s.exec(select(Person)).one())
        assert verify_password(NEW, stored.password_hash)[0] and stored.session_version == 2
        assert [e.detail for e in events(engine, "person.password")] == [{"how": "command line"}]
    finally:
        engine.dispose()
