"""SCIM 2.0 Users (RFC 7644) with the requests Okta, Microsoft Entra ID and authentik send, from their published docs:
create, look up by filter, update, deactivate (sessions end, pay history stays), reactivate, delete."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import Engine, func
from sqlmodel import col, select

from commissions.core.db import transaction
from commissions.core.periods import ensure_period
from commissions.models import AuditEvent, PayoutLine, Person, StatementState
from tests.conftest import read, sign_in
from tests.deals.test_deals_api import token_for
from tests.scim.conftest import ENTERPRISE, SCIM, USER, patch_op, person, scim_error

URL = "/scim/v2/Users"

# Okta's "Create the user" request (developer.okta.com, "SCIM 2.0 protocol reference")
OKTA_USER = {
    "schemas": [USER],
    "userName": "test.user@okta.local",
    "name": {"givenName": "Test", "familyName": "User"},
    "emails": [{"primary": True, "value": "test.user@okta.local", "type": "work"}],
    "displayName": "Test User",
    "locale": "en-US",
    "externalId": "00ujl29u0le5T6Aj10h7",
    "groups": [],
    "password": "1mz050nq",
    "active": True,
}

# Entra ID's create request (learn.microsoft.com, "Tutorial: Develop a sample SCIM endpoint", request 2)
ENTRA_USER = {
    "schemas": [USER, ENTERPRISE],
    "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
    "userName": "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1@testuser.com",
    "active": True,
    "emails": [
        {"primary": True, "type": "work", "value": "Test_User_fd0ea19b-0777-472c-9f96-4f70d2226f2e@testuser.com"}
    ],
    "meta": {"resourceType": "User"},
    "name": {"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"},
    "roles": [],
}


def test_okta_sequence_create_find_update_deactivate_reactivate(client, engine: Engine, scim, make_person) -> None:  # type: ignore[no-untyped-def]
    lookup = {"filter": 'userName eq "test.user@okta.local"', "startIndex": "1", "count": "100"}
    first = client.get(URL, params=lookup, headers=scim)
    assert first.status_code == 200 and first.headers["content-type"].startswith(SCIM)
    assert first.json()["totalResults"] == 0 and first.json()["Resources"] == []

    created = client.post(URL, json=OKTA_USER, headers=scim)
    assert created.status_code == 201, created.text
    user = created.json()
    assert created.headers["location"] == user["meta"]["location"] == f"http://127.0.0.1:8000{URL}/{user['id']}"
    assert user["userName"] == "test.user@okta.local" and user["active"] is True
    assert user["name"]["givenName"] == "Test" and user["name"]["familyName"] == "User"
    assert user["emails"] == [{"value": "test.user@okta.local", "type": "work", "primary": True}]
    assert user["meta"]["resourceType"] == "User" and user["meta"]["created"].endswith("Z")
    stored = person(engine, "test.user@okta.local")
    assert stored is not None and stored["name"] == "Test User" and stored["role"] == "rep"
    assert user["id"] == str(stored["id"])

    found = client.get(URL, params=lookup, headers=scim).json()
    assert (found["totalResults"], found["startIndex"], found["itemsPerPage"]) == (1, 1, 1)
    assert found["Resources"][0]["id"] == user["id"]
    assert client.get(f"{URL}/{user['id']}", headers=scim).json()["userName"] == "test.user@okta.local"

    # Okta's PUT sends the whole user back with the changes
    replaced = client.put(
        f"{URL}/{user['id']}",
        json=OKTA_USER | {"id": user["id"], "name": {"givenName": "Another", "familyName": "User"}},
        headers=scim,
    )
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["displayName"] == "Test User"  # displayName wins over the name's parts
    assert person(engine, "test.user@okta.local")["name"] == "Test User"  # type: ignore[index]
    renamed = client.put(
        f"{URL}/{user['id']}",
        json={k: v for k, v in OKTA_USER.items() if k != "displayName"}
        | {"name": {"givenName": "Another", "familyName": "User"}},
        headers=scim,
    )
    assert renamed.json()["name"]["formatted"] == "Another User"
    assert person(engine, "test.user@okta.local")["name"] == "Another User"  # type: ignore[index]

    deactivated = client.patch(
        f"{URL}/{user['id']}", json=patch_op({"op": "replace", "value": {"active": False}}), headers=scim
    )
    assert deactivated.status_code == 200 and deactivated.json()["active"] is False
    assert person(engine, "test.user@okta.local")["active"] is False  # type: ignore[index]

    reactivated = client.patch(
        f"{URL}/{user['id']}", json=patch_op({"op": "replace", "value": {"active": True}}), headers=scim
    )
    assert reactivated.json()["active"] is True
    assert person(engine, "test.user@okta.local")["active"] is True  # type: ignore[index]


def test_entra_sequence_string_booleans_capitalised_ops_and_the_enterprise_extension(
    client, engine: Engine, scim, make_person
) -> None:  # type: ignore[no-untyped-def]
    boss = make_person("boss@testuser.com", "manager")
    lookup = {"filter": f'userName eq "{ENTRA_USER["userName"]}"'}
    assert client.get(URL, params=lookup, headers=scim).json()["totalResults"] == 0
    created = client.post(URL, json=ENTRA_USER, headers=scim)
    assert created.status_code == 201, created.text
    uid = created.json()["id"]
    email = ENTRA_USER["userName"].lower()  # type: ignore[attr-defined]
    assert created.json()["userName"] == email  # userName is the email (stored in lower case)
    assert person(engine, email)["name"] == "givenName familyName"  # type: ignore[index]
    assert client.get(URL, params=lookup, headers=scim).json()["Resources"][0]["id"] == uid

    changed = client.patch(
        f"{URL}/{uid}",
        json=patch_op(
            {"op": "Replace", "path": "name.familyName", "value": "updatedFamilyName"},
            {"op": "Replace", "path": 'emails[type eq "work"].value', "value": "updatedEmail@microsoft.com"},
            {"op": "Add", "path": f"{ENTERPRISE}:employeeNumber", "value": "E-77"},
            {"op": "Add", "path": f"{ENTERPRISE}:manager", "value": str(boss.id)},
        ),
        headers=scim,
    )
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert body["name"]["familyName"] == "updatedFamilyName" and body["userName"] == email  # the email stays the key
    assert body[ENTERPRISE]["employeeNumber"] == "E-77" and body[ENTERPRISE]["manager"]["value"] == str(boss.id)
    stored = person(engine, email)
    assert stored == stored | {
        "name": "givenName updatedFamilyName",
        "employee_id": "E-77",
        "manager": "boss@testuser.com",
    }

    # Okta's shape of the manager: an object with value; removing it clears the manager
    assert (
        client.patch(
            f"{URL}/{uid}",
            json=patch_op({"op": "replace", "path": f"{ENTERPRISE}:manager", "value": {"value": str(boss.id)}}),
            headers=scim,
        ).status_code
        == 200
    )
    client.patch(f"{URL}/{uid}", json=patch_op({"op": "Remove", "path": f"{ENTERPRISE}:manager"}), headers=scim)
    assert person(engine, email)["manager"] is None  # type: ignore[index]

    disabled = client.patch(
        f"{URL}/{uid}", json=patch_op({"op": "Replace", "path": "active", "value": "False"}), headers=scim
    )
    assert disabled.status_code == 200 and disabled.json()["active"] is False
    assert person(engine, email)["active"] is False  # type: ignore[index]
    client.patch(f"{URL}/{uid}", json=patch_op({"op": "Replace", "path": "active", "value": "True"}), headers=scim)
    assert person(engine, email)["active"] is True  # type: ignore[index]

    assert client.delete(f"{URL}/{uid}", headers=scim).status_code == 204
    assert person(engine, email)["active"] is False  # type: ignore[index]  # deactivated, still stored
    assert client.get(f"{URL}/{uid}", headers=scim).json()["active"] is False


def test_deprovisioning_ends_the_session_and_keeps_pay_history(client, engine: Engine, scim, make_person) -> None:  # type: ignore[no-untyped-def]
    ana = make_person("ana@example.com")
    with transaction(engine) as s:
        from commissions.adjustments.service import add_manual_adjustment

        ensure_period(s, "2026-Q4")
        admin_id = s.exec(select(Person.id).where(Person.email == "admin@example.com")).one()
        add_manual_adjustment(
            s, person_id=ana.id, period_key="2026-Q4", amount=Decimal("125.00"), reason="spiff", actor_id=admin_id
        )
    lines = read(engine, lambda s: s.exec(select(func.count()).where(PayoutLine.person_id == ana.id)).one())
    assert lines >= 1
    ana_token = token_for(engine, "rep", "ana@example.com")
    assert sign_in(client, "ana@example.com").status_code in (302, 303)
    assert client.get("/", follow_redirects=False).status_code == 200

    response = client.patch(
        f"{URL}/{ana.id}", json=patch_op({"op": "Replace", "path": "active", "value": "False"}), headers=scim
    )
    assert response.status_code == 200, response.text
    assert client.get("/", follow_redirects=False).status_code in (302, 303)  # her session was ended
    assert client.get("/api/v1/me", headers=ana_token).status_code == 401  # and her token revoked
    assert read(engine, lambda s: s.exec(select(func.count()).where(PayoutLine.person_id == ana.id)).one()) == lines

    assert client.delete(f"{URL}/{ana.id}", headers=scim).status_code == 204
    assert read(engine, lambda s: s.get(Person, ana.id)) is not None  # never deleted
    assert read(engine, lambda s: s.exec(select(func.count()).where(PayoutLine.person_id == ana.id)).one()) == lines
    actions = read(engine, lambda s: s.exec(select(AuditEvent.action).where(AuditEvent.object_id == str(ana.id))).all())
    assert actions.count("person.deactivate") == 1


def test_a_manager_change_queues_the_statements_it_moves(client, engine: Engine, scim, make_person) -> None:  # type: ignore[no-untyped-def]
    one = make_person("one@example.com", "manager")
    two = make_person("two@example.com", "manager")
    ana = make_person("ana@example.com", manager="one@example.com")
    with transaction(engine) as s:
        ensure_period(s, "2026-Q4")

    def versions() -> dict[int, int]:
        query = select(StatementState.person_id, StatementState.input_version).where(
            StatementState.period_key == "2026-Q4"
        )
        return dict(read(engine, lambda s: s.exec(query).all()))

    before = versions()
    path = f"{ENTERPRISE}:manager"
    response = client.patch(
        f"{URL}/{ana.id}", json=patch_op({"op": "replace", "path": path, "value": str(two.id)}), headers=scim
    )
    assert response.status_code == 200, response.text
    after = versions()
    moved = {pid for pid, v in after.items() if v > before.get(pid, 0)}
    assert {ana.id, one.id, two.id} <= moved
    assert person(engine, "ana@example.com")["manager"] == "two@example.com"  # type: ignore[index]


def test_filters_and_paging(client, engine: Engine, scim, make_person) -> None:  # type: ignore[no-untyped-def]
    for n in range(5):
        make_person(f"p{n}@example.com")
    everyone = client.get(URL, headers=scim).json()
    assert everyone["totalResults"] == 6 and everyone["itemsPerPage"] == 6
    ids = [r["id"] for r in everyone["Resources"]]
    assert ids == sorted(ids, key=int)
    page = client.get(URL, params={"startIndex": "3", "count": "2"}, headers=scim).json()
    assert (page["totalResults"], page["startIndex"], page["itemsPerPage"]) == (6, 3, 2)
    assert [r["id"] for r in page["Resources"]] == ids[2:4]
    assert client.get(URL, params={"count": "0"}, headers=scim).json() | {"Resources": []} == {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
        "totalResults": 6,
        "startIndex": 1,
        "itemsPerPage": 0,
        "Resources": [],
    }
    assert client.get(URL, params={"startIndex": "7"}, headers=scim).json()["Resources"] == []
    low = client.get(URL, params={"startIndex": "0", "count": "-3"}, headers=scim).json()  # RFC 7644 §3.4.2.4
    assert (low["startIndex"], low["itemsPerPage"], low["totalResults"]) == (1, 0, 6)
    for query in (
        'emails[type eq "work"].value eq "P2@example.com"',
        'emails.value eq "p2@example.com"',
        'USERNAME EQ "p2@example.com"',
    ):
        found = client.get(URL, params={"filter": query}, headers=scim).json()
        assert [r["userName"] for r in found["Resources"]] == ["p2@example.com"], query
    assert (
        client.get(URL, params={"filter": 'externalId eq "00ujl29u0le5T6Aj10h7"'}, headers=scim).json()["totalResults"]
        == 0
    )
    for bad in ('userName sw "p"', 'title eq "x"', "userName eq p2", 'userName eq "a" or userName eq "b"'):
        scim_error(client.get(URL, params={"filter": bad}, headers=scim), 400, "invalidFilter")


def test_errors_in_scim_form(client, engine: Engine, scim, make_person) -> None:  # type: ignore[no-untyped-def]
    body = scim_error(client.get(f"{URL}/999999", headers=scim), 404)
    assert "999999" in body["detail"]
    scim_error(client.get(f"{URL}/not-an-id", headers=scim), 404)
    assert client.post(URL, json=OKTA_USER, headers=scim).status_code == 201
    dup = scim_error(
        client.post(URL, json=OKTA_USER | {"userName": "TEST.user@okta.local"}, headers=scim), 409, "uniqueness"
    )
    assert "test.user@okta.local" in dup["detail"]
    scim_error(
        client.post(URL, json={"schemas": [USER], "name": {"givenName": "No"}}, headers=scim), 400, "invalidValue"
    )
    uid = person(engine, "test.user@okta.local")["id"]  # type: ignore[index]
    scim_error(
        client.patch(
            f"{URL}/{uid}", json=patch_op({"op": "replace", "path": "active", "value": "maybe"}), headers=scim
        ),
        400,
        "invalidValue",
    )
    scim_error(
        client.patch(f"{URL}/{uid}", json=patch_op({"op": "move", "path": "active", "value": True}), headers=scim), 400
    )
    scim_error(
        client.patch(
            f"{URL}/{uid}",
            json=patch_op({"op": "replace", "path": f"{ENTERPRISE}:manager", "value": "999999"}),
            headers=scim,
        ),
        400,
        "invalidValue",
    )
    assert person(engine, "test.user@okta.local")["manager"] is None  # type: ignore[index]  # nothing written
    # an admin cannot deprovision themself through SCIM either (people.sync refuses it)
    me = person(engine, "admin@example.com")["id"]  # type: ignore[index]
    scim_error(client.delete(f"{URL}/{me}", headers=scim), 400, "invalidValue")
    assert person(engine, "admin@example.com")["active"] is True  # type: ignore[index]


def test_who_may_call(client, engine: Engine, scim, make_person) -> None:  # type: ignore[no-untyped-def]
    scim_error(client.get(URL), 401)
    assert client.get(URL).headers["www-authenticate"].startswith("Bearer")
    scim_error(client.post(URL, json=OKTA_USER, headers={"Content-Type": SCIM}), 401)
    scim_error(client.get(URL, headers={"Authorization": "Bearer not-a-token"}), 401)
    for role in ("rep", "manager", "finance"):
        make_person(f"{role}@example.com", role)
        token = token_for(engine, role, f"{role}@example.com")
        scim_error(client.get(URL, headers=token), 403)
        scim_error(client.post(URL, json=OKTA_USER, headers=token), 403)
    assert person(engine, "test.user@okta.local") is None
    refusals = read(
        engine, lambda s: s.exec(select(AuditEvent.action).where(AuditEvent.action == "auth.forbidden")).all()
    )
    assert len(refusals) >= 6  # each refused token is in the audit log
    # a signed-in admin's browser session is not a SCIM credential (no CSRF check protects these routes)
    assert sign_in(client, "admin@example.com").status_code in (302, 303)
    scim_error(client.get(URL), 401)
    scim_error(client.post(URL, json=OKTA_USER), 401)
    assert person(engine, "test.user@okta.local") is None


def test_content_types(client, engine: Engine, scim) -> None:  # type: ignore[no-untyped-def]
    plain_json = scim | {"Content-Type": "application/json"}
    assert client.post(URL, json=OKTA_USER, headers=plain_json).status_code == 201
    response = client.post(URL, content=b'{"userName": "x@example.com"}', headers=scim | {"Content-Type": "text/plain"})
    scim_error(response, 415)
    scim_error(client.post(URL, content=b"{not json", headers=scim), 400)
    scim_error(client.post(URL, content=b"[1]", headers=scim), 400, "invalidSyntax")
    assert (
        read(
            engine,
            lambda s: s.exec(
                select(func.count()).select_from(Person).where(col(Person.email) == "x@example.com")
            ).one(),
        )
        == 0
    )


def test_discovery(client, scim) -> None:  # type: ignore[no-untyped-def]
    config = client.get("/scim/v2/ServiceProviderConfig", headers=scim)
    assert config.status_code == 200 and config.headers["content-type"].startswith(SCIM)
    body = config.json()
    assert body["patch"]["supported"] is True
    assert body["filter"] == {"supported": True, "maxResults": 200}
    assert not any(body[k]["supported"] for k in ("bulk", "changePassword", "sort", "etag"))
    assert body["authenticationSchemes"][0]["type"] == "oauthbearertoken"
    types = client.get("/scim/v2/ResourceTypes", headers=scim).json()
    assert {t["id"]: t["endpoint"] for t in types["Resources"]} == {"User": "/Users", "Group": "/Groups"}
    schemas = client.get("/scim/v2/Schemas", headers=scim).json()
    assert {s["id"] for s in schemas["Resources"]} == {USER, ENTERPRISE, "urn:ietf:params:scim:schemas:core:2.0:Group"}
    assert schemas["totalResults"] == 3
    user_schema = next(s for s in schemas["Resources"] if s["id"] == USER)
    assert {"userName", "name", "displayName", "active", "emails"} <= {a["name"] for a in user_schema["attributes"]}
    assert client.get(URL, params={"count": "5000"}, headers=scim).status_code == 200  # capped at maxResults


def test_a_new_user_name_changes_the_email_unless_taken(client, engine: Engine, scim, make_person) -> None:  # type: ignore[no-untyped-def]
    ana = make_person("ana@example.com")
    make_person("bo@example.com")
    body = {
        "schemas": [USER],
        "userName": "ana.alvarez@example.com",
        "name": {"givenName": "Ana", "familyName": "Alvarez"},
    }
    response = client.put(f"{URL}/{ana.id}", json=body, headers=scim)
    assert response.status_code == 200, response.text
    assert response.json()["userName"] == "ana.alvarez@example.com"
    assert person(engine, "ana@example.com") is None
    assert person(engine, "ana.alvarez@example.com")["id"] == ana.id  # type: ignore[index]
    taken = patch_op({"op": "replace", "path": "userName", "value": "bo@example.com"})
    scim_error(client.patch(f"{URL}/{ana.id}", json=taken, headers=scim), 409, "uniqueness")
    assert person(engine, "ana.alvarez@example.com")["id"] == ana.id  # type: ignore[index]


# authentik's SCIM provider (goauthentik.io, "SCIM provider"): it creates with POST, then keeps users in sync
# with full PUTs of the same shape (its user mapping sends name, displayName, emails with type "other",
# active, and its own id as externalId), and deletes with DELETE
AUTHENTIK_USER = {
    "schemas": [USER],
    "userName": "akadmin@authentik.example",
    "name": {"formatted": "Ada Admin", "givenName": "Ada", "familyName": "Admin"},
    "displayName": "Ada Admin",
    "active": True,
    "emails": [{"value": "akadmin@authentik.example", "type": "other", "primary": True}],
    "externalId": "6d3c1f0a-2e4b-4f5a-9c6d-7e8f9a0b1c2d",
    "photos": [],
    "locale": "en",
}


def test_authentik_sequence_create_put_deactivate_delete(client, engine: Engine, scim) -> None:  # type: ignore[no-untyped-def]
    created = client.post(URL, json=AUTHENTIK_USER, headers=scim)
    assert created.status_code == 201, created.text
    user_id = created.json()["id"]
    stored = person(engine, "akadmin@authentik.example")
    assert stored is not None and stored["name"] == "Ada Admin" and stored["active"] is True

    renamed = {
        **AUTHENTIK_USER,
        "name": {**AUTHENTIK_USER["name"], "formatted": "Ada Lovelace"},
        "displayName": "Ada Lovelace",
    }
    replaced = client.put(f"{URL}/{user_id}", json=renamed, headers=scim)
    assert replaced.status_code == 200, replaced.text
    assert person(engine, "akadmin@authentik.example")["name"] == "Ada Lovelace"  # type: ignore[index]

    again = client.put(f"{URL}/{user_id}", json=renamed, headers=scim)  # authentik re-syncs unchanged users
    assert again.status_code == 200 and again.json()["displayName"] == "Ada Lovelace"

    deactivated = client.put(f"{URL}/{user_id}", json={**renamed, "active": False}, headers=scim)
    assert deactivated.status_code == 200 and deactivated.json()["active"] is False
    assert person(engine, "akadmin@authentik.example")["active"] is False  # type: ignore[index]

    assert client.delete(f"{URL}/{user_id}", headers=scim).status_code == 204
    kept = person(engine, "akadmin@authentik.example")
    assert kept is not None and kept["active"] is False  # deprovisioned, never deleted
