"""API tokens: they authenticate machines, are stored hashed, carry a role, and stop working once revoked."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine, text
from sqlmodel import Session, select

from commissions.auth.tokens import create_token, revoke_token
from commissions.core.db import transaction
from commissions.models import ApiToken, Deal, Person
from tests.conftest import csrf_from, read, sign_in


def _token(engine: Engine, role: str, email: str | None = None) -> str:
    with transaction(engine) as s:
        person = s.exec(select(Person).where(Person.email == email)).one() if email else None
        _, clear = create_token(s, name=f"{role} token", role=role, person=person, created_by=None)
    return clear


def _deal(engine: Engine, external_id: str, owner_email: str) -> None:
    with transaction(engine) as s:
        owner = s.exec(select(Person).where(Person.email == owner_email)).one()
        s.add(
            Deal(
                external_id=external_id,
                name=external_id,
                owner_id=owner.id,
                amount_minor=1_000_000,
                currency="USD",
                closed_at=date(2026, 2, 1),
            )
        )


def test_token_authenticates_and_revoked_token_does_not(client, make_person, engine: Engine) -> None:
    make_person("ana@example.com")
    clear = _token(engine, "rep", "ana@example.com")
    headers = {"Authorization": f"Bearer {clear}"}
    me = client.get("/api/v1/me", headers=headers)
    assert me.status_code == 200
    assert me.json() == {"email": "ana@example.com", "name": "Ana", "role": "rep", "via_token": True}

    with transaction(engine) as s:
        revoke_token(s, s.exec(select(ApiToken)).one(), by=None)
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    assert client.get("/api/v1/deals", headers=headers).status_code == 401


def test_wrong_or_malformed_token_is_refused(client) -> None:
    for value in ["Bearer qb_not-a-real-token", "Bearer ", "Basic abc", "Bearer " + "x" * 5000]:
        assert client.get("/api/v1/me", headers={"Authorization": value}).status_code == 401


def test_token_is_stored_only_as_a_hash(engine: Engine, make_person) -> None:
    make_person("fin@example.com", "finance")
    clear = _token(engine, "finance", "fin@example.com")
    with engine.connect() as conn:
        for row in conn.execute(text("SELECT * FROM api_token")):
            assert clear not in repr(tuple(row))
    stored = read(engine, lambda s: s.exec(select(ApiToken)).one())
    assert len(stored.token_hash) == 64 and stored.prefix == clear[:10]


def test_token_role_bounds_what_it_reads(client, make_person, engine: Engine) -> None:
    make_person("ana@example.com")
    make_person("bo@example.com")
    make_person("fin@example.com", "finance")
    _deal(engine, "D-ANA", "ana@example.com")
    _deal(engine, "D-BO", "bo@example.com")
    rep = client.get(
        "/api/v1/deals?period=2026-Q1", headers={"Authorization": f"Bearer {_token(engine, 'rep', 'ana@example.com')}"}
    )
    assert [d["external_id"] for d in rep.json()] == ["D-ANA"]
    assert rep.json()[0]["amount"] == "10000.00"
    fin = client.get(
        "/api/v1/deals?period=2026-Q1",
        headers={"Authorization": f"Bearer {_token(engine, 'finance', 'fin@example.com')}"},
    )
    assert sorted(d["external_id"] for d in fin.json()) == ["D-ANA", "D-BO"]


def test_token_for_a_deactivated_person_stops_working(client, make_person, engine: Engine) -> None:
    person = make_person("ana@example.com")
    clear = _token(engine, "rep", "ana@example.com")
    with Session(engine) as s:
        row = s.get(Person, person.id)
        row.active = False
        s.add(row)
        s.commit()
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {clear}"}).status_code == 401


def test_session_cookie_cannot_write_to_the_api(client, make_person) -> None:
    """API writes are exempt from CSRF, so a browser session must not be enough for them."""
    make_person("root@example.com", "admin")
    sign_in(client, "root@example.com")
    assert client.get("/api/v1/me").status_code == 200
    assert client.post("/api/v1/me", json={}).status_code in (401, 405)


def test_admin_creates_and_revokes_a_token_in_the_browser(client, make_person, engine: Engine) -> None:
    make_person("root@example.com", "admin")
    make_person("ana@example.com")
    sign_in(client, "root@example.com")
    page = client.post(
        "/admin/tokens/",
        data={"name": "Salesforce", "role": "", "as_email": "root@example.com", "_csrf_token": csrf_from(client)},
    )
    assert page.status_code == 200
    assert "shown only once" in page.text
    clear = page.text.split('<pre class="token">')[1].split("</pre>")[0]
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {clear}"}).json()["email"] == "root@example.com"
    token_id = read(engine, lambda s: s.exec(select(ApiToken.id)).one())
    client.post(f"/admin/tokens/{token_id}/revoke", data={"_csrf_token": csrf_from(client)})
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {clear}"}).status_code == 401
    assert clear not in client.get("/admin/tokens").text


def test_bad_period_is_a_clear_400(client, make_person, engine: Engine) -> None:
    make_person("ana@example.com")
    response = client.get(
        "/api/v1/deals?period=2026-Q7", headers={"Authorization": f"Bearer {_token(engine, 'rep', 'ana@example.com')}"}
    )
    assert response.status_code == 400
    assert "2026-Q7" in response.json()["detail"]
