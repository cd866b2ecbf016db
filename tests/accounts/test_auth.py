"""Sign-in, sign-out, sessions, CSRF, and passwords that never appear in clear."""

from __future__ import annotations

import logging

from sqlalchemy import Engine, func, text
from sqlmodel import Session, select

from commissions.auth.sessions import SESSION_COOKIE
from commissions.models import AuditEvent, Person
from tests.conftest import PASSWORD, csrf_from, read, sign_in


def test_sign_in_success_lands_on_home(client, make_person) -> None:
    make_person("ana@example.com")
    response = sign_in(client, "ana@example.com")
    assert response.status_code in (302, 303)
    assert response.headers["location"] == "/"
    home = client.get("/")
    assert home.status_code == 200
    assert "Hello, Ana" in home.text


def test_sign_in_is_case_insensitive_on_email(client, make_person) -> None:
    make_person("ana@example.com")
    assert sign_in(client, "  Ana@Example.COM ").status_code in (302, 303)
    assert client.get("/").status_code == 200


def test_sign_in_failure_wrong_password_and_unknown_email(client, make_person, engine: Engine) -> None:
    make_person("ana@example.com")
    for email, password in [("ana@example.com", "wrong password!"), ("nobody@example.com", PASSWORD)]:
        response = sign_in(client, email, password)
        assert response.status_code == 401
        assert "Email or password is wrong." in response.text
        assert client.get("/", follow_redirects=False).status_code in (302, 303)
    failures = read(
        engine,
        lambda s: s.exec(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "auth.sign_in_failed")
        ).one(),
    )
    assert failures == 2


def test_deactivated_person_cannot_sign_in(client, make_person, engine: Engine) -> None:
    person = make_person("ana@example.com")
    with Session(engine) as s:
        row = s.get(Person, person.id)
        row.active = False
        s.add(row)
        s.commit()
    assert sign_in(client, "ana@example.com").status_code == 401


def test_session_id_is_replaced_at_sign_in(client, make_person, app) -> None:
    """No session fixation: a planted id is not the one that gets signed in."""
    make_person("ana@example.com")
    planted = "a" * 64
    client.cookies.set(SESSION_COOKIE, planted)
    response = sign_in(client, "ana@example.com")
    new_id = response.cookies.get(SESSION_COOKIE)
    assert new_id and new_id != planted and new_id != "null"

    from litestar.testing import TestClient

    with TestClient(app=app, base_url="http://127.0.0.1:8000") as attacker:
        attacker.cookies.set(SESSION_COOKIE, planted)
        assert attacker.get("/", follow_redirects=False).status_code in (302, 303)


def test_each_sign_in_gets_a_new_session_id(client, make_person) -> None:
    make_person("ana@example.com")
    first = sign_in(client, "ana@example.com").cookies.get(SESSION_COOKIE)
    second = sign_in(client, "ana@example.com").cookies.get(SESSION_COOKIE)
    assert first and second and first != second


def test_session_cookie_flags(client, make_person) -> None:
    make_person("ana@example.com")
    header = sign_in(client, "ana@example.com").headers["set-cookie"]
    session_cookie = next(c for c in header.split(", qb") if SESSION_COOKIE in c or c.startswith("_session"))
    assert "HttpOnly" in session_cookie
    assert "SameSite=lax" in session_cookie or "SameSite=Lax" in session_cookie


def test_sign_out_ends_the_session(client, make_person, app) -> None:
    make_person("ana@example.com")
    sign_in(client, "ana@example.com")
    old_cookie = client.cookies[SESSION_COOKIE]
    response = client.post("/logout", data={"_csrf_token": csrf_from(client)}, follow_redirects=False)
    assert response.status_code in (302, 303)
    assert client.get("/", follow_redirects=False).status_code in (302, 303)

    from litestar.testing import TestClient

    with TestClient(app=app, base_url="http://127.0.0.1:8000") as replay:
        replay.cookies.set(SESSION_COOKIE, old_cookie)
        assert replay.get("/", follow_redirects=False).status_code in (302, 303)


def test_unauthenticated_page_redirects_to_sign_in_with_next(client) -> None:
    response = client.get("/deals?period=2026-Q1", follow_redirects=False)
    assert response.status_code in (302, 303)
    assert response.headers["location"] == "/login?next=%2Fdeals%3Fperiod%3D2026-Q1"


def test_next_parameter_is_never_an_open_redirect(client, make_person) -> None:
    make_person("ana@example.com")
    response = sign_in(client, "ana@example.com", next_path="//evil.example.com/")
    assert response.headers["location"] == "/"


def test_post_without_csrf_token_is_refused_and_changes_nothing(client, make_person, engine: Engine) -> None:
    make_person("root@example.com", "admin")
    sign_in(client, "root@example.com")
    before = read(engine, lambda s: s.exec(select(func.count()).select_from(Person)).one())
    response = client.post("/admin/people/", data={"email": "new@example.com", "name": "New", "role": "rep"})
    assert response.status_code == 403
    assert read(engine, lambda s: s.exec(select(func.count()).select_from(Person)).one()) == before

    ok = client.post(
        "/admin/people/",
        data={"email": "new@example.com", "name": "New", "role": "rep", "_csrf_token": csrf_from(client)},
    )
    assert ok.status_code == 200
    assert read(engine, lambda s: s.exec(select(func.count()).select_from(Person)).one()) == before + 1


def test_sign_in_form_without_csrf_is_refused(client, make_person) -> None:
    make_person("ana@example.com")
    response = client.post("/login", data={"email": "ana@example.com", "password": PASSWORD})
    assert response.status_code == 403
    assert client.get("/", follow_redirects=False).status_code in (302, 303)


def test_htmx_header_carries_the_csrf_token(client, make_person, engine: Engine) -> None:
    """htmx sends the token in the x-csrftoken header set on <body>: that is accepted too."""
    make_person("root@example.com", "admin")
    sign_in(client, "root@example.com")
    page = client.get("/admin/people")
    token = client.cookies["csrftoken"]
    assert f'"x-csrftoken": "{token}"' in page.text
    response = client.post(
        "/admin/people/",
        data={"email": "hx@example.com", "role": "rep"},
        headers={"x-csrftoken": token, "HX-Request": "true"},
    )
    assert response.status_code == 200
    assert response.headers.get("hx-redirect", "").startswith("/admin/people?added=")


def test_password_is_never_stored_or_logged_in_clear(client, make_person, engine: Engine, caplog) -> None:
    secret = "Unmistakable-Secret-4711"
    caplog.set_level(logging.DEBUG)
    make_person("ana@example.com", password=secret)
    sign_in(client, "ana@example.com", secret)
    sign_in(client, "ana@example.com", secret + "x")
    assert secret not in caplog.text

    person = read(engine, lambda s: s.exec(select(Person).where(Person.email == "ana@example.com")).one())
    assert person.password_hash.startswith("$argon2id$")
    assert secret not in person.password_hash
    with engine.connect() as conn:
        for table in ("person", "audit_event", "api_token"):
            for row in conn.execute(text(f"SELECT * FROM {table}")):
                assert secret not in repr(tuple(row)), table
