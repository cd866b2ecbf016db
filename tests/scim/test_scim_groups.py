"""SCIM 2.0 Groups ↔ teams with the requests Okta and Microsoft Entra ID send: create with members, look up by
displayName, add and remove members, rename, replace, delete (members leave the team; the team row stays)."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlmodel import select

from commissions.core.db import transaction
from commissions.core.periods import ensure_period
from commissions.models import StatementState, Team
from tests.conftest import read
from tests.scim.conftest import GROUP, SCIM, patch_op, person, scim_error

URL = "/scim/v2/Groups"


def test_okta_sequence(client, engine: Engine, scim, make_person) -> None:  # type: ignore[no-untyped-def]
    ana, bo = make_person("ana@example.com"), make_person("bo@example.com")
    lookup = {"filter": 'displayName eq "Test SCIMv2"', "startIndex": "1", "count": "100"}
    assert client.get(URL, params=lookup, headers=scim).json()["totalResults"] == 0
    created = client.post(URL, json={"schemas": [GROUP], "displayName": "Test SCIMv2", "members": []}, headers=scim)
    assert created.status_code == 201, created.text
    group = created.json()
    assert created.headers["location"] == group["meta"]["location"] and group["members"] == []
    assert group["displayName"] == "Test SCIMv2" and group["meta"]["resourceType"] == "Group"
    found = client.get(URL, params=lookup, headers=scim).json()
    assert found["totalResults"] == 1 and found["Resources"][0]["id"] == group["id"]
    gid = group["id"]

    added = client.patch(
        f"{URL}/{gid}",
        json=patch_op(
            {"op": "add", "path": "members", "value": [{"value": str(ana.id), "display": "ana@example.com"}]},
            {"op": "add", "path": "members", "value": [{"value": str(bo.id), "display": "bo@example.com"}]},
        ),
        headers=scim,
    )
    assert added.status_code == 200, added.text
    assert {m["value"] for m in added.json()["members"]} == {str(ana.id), str(bo.id)}
    assert person(engine, "ana@example.com")["team"] == "Test SCIMv2"  # type: ignore[index]

    removed = client.patch(
        f"{URL}/{gid}", json=patch_op({"op": "remove", "path": f'members[value eq "{ana.id}"]'}), headers=scim
    )
    assert removed.status_code == 200 and [m["value"] for m in removed.json()["members"]] == [str(bo.id)]
    assert person(engine, "ana@example.com")["team"] is None  # type: ignore[index]

    renamed = client.patch(
        f"{URL}/{gid}",
        json=patch_op({"op": "replace", "value": {"id": gid, "displayName": "Test SCIMv2 Updated"}}),
        headers=scim,
    )
    assert renamed.json()["displayName"] == "Test SCIMv2 Updated"
    assert person(engine, "bo@example.com")["team"] == "Test SCIMv2 Updated"  # type: ignore[index]

    # PUT replaces the members: bo leaves, ana joins
    replaced = client.put(
        f"{URL}/{gid}",
        json={"schemas": [GROUP], "id": gid, "displayName": "Sales East", "members": [{"value": str(ana.id)}]},
        headers=scim,
    )
    assert replaced.status_code == 200, replaced.text
    assert [m["value"] for m in replaced.json()["members"]] == [str(ana.id)]
    assert (person(engine, "ana@example.com")["team"], person(engine, "bo@example.com")["team"]) == ("Sales East", None)  # type: ignore[index]

    assert client.delete(f"{URL}/{gid}", headers=scim).status_code == 204
    assert person(engine, "ana@example.com")["team"] is None  # type: ignore[index]
    assert person(engine, "ana@example.com")["active"] is True  # type: ignore[index]  # people are not deprovisioned
    kept = read(engine, lambda s: s.get(Team, int(gid)))
    assert kept is not None and kept.name == "Sales East"
    assert client.get(f"{URL}/{gid}", headers=scim).json()["members"] == []


def test_entra_sequence(client, engine: Engine, scim, make_person) -> None:  # type: ignore[no-untyped-def]
    ana, bo = make_person("ana@example.com"), make_person("bo@example.com")
    body = {
        "schemas": [GROUP],
        "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
        "displayName": "displayName",
        "meta": {"resourceType": "Group"},
    }
    created = client.post(URL, json=body, headers=scim)
    assert created.status_code == 201, created.text
    gid = created.json()["id"]
    listed = client.get(
        URL, params={"excludedAttributes": "members", "filter": 'displayName eq "displayName"'}, headers=scim
    ).json()
    assert listed["Resources"][0]["id"] == gid and "members" not in listed["Resources"][0]

    add = {
        "op": "Add",
        "path": "members",
        "value": [{"$ref": None, "value": str(ana.id)}, {"$ref": None, "value": str(bo.id)}],
    }
    assert client.patch(f"{URL}/{gid}", json=patch_op(add), headers=scim).status_code == 200
    assert person(engine, "bo@example.com")["team"] == "displayName"  # type: ignore[index]
    remove = {"op": "Remove", "path": "members", "value": [{"$ref": None, "value": str(ana.id)}]}
    response = client.patch(f"{URL}/{gid}", json=patch_op(remove), headers=scim)
    assert [m["value"] for m in response.json()["members"]] == [str(bo.id)]
    rename = {"op": "Replace", "path": "displayName", "value": "1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName"}
    response = client.patch(f"{URL}/{gid}", json=patch_op(rename), headers=scim)
    assert response.json()["displayName"] == "1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName"
    assert person(engine, "bo@example.com")["team"] == "1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName"  # type: ignore[index]


def test_create_with_members_and_a_team_change_queues_statements(client, engine: Engine, scim, make_person) -> None:  # type: ignore[no-untyped-def]
    boss = make_person("boss@example.com", "manager")
    ana = make_person("ana@example.com", manager="boss@example.com")
    with transaction(engine) as s:
        ensure_period(s, "2026-Q4")
    query = select(StatementState.person_id, StatementState.input_version).where(StatementState.period_key == "2026-Q4")
    before = dict(read(engine, lambda s: s.exec(query).all()))
    response = client.post(
        URL, json={"schemas": [GROUP], "displayName": "Sales East", "members": [{"value": str(ana.id)}]}, headers=scim
    )
    assert response.status_code == 201, response.text
    assert [m["display"] for m in response.json()["members"]] == ["Ana"]
    after = dict(read(engine, lambda s: s.exec(query).all()))
    assert {pid for pid, v in after.items() if v > before.get(pid, 0)} >= {ana.id, boss.id}


def test_errors_filters_and_paging(client, engine: Engine, scim, make_person) -> None:  # type: ignore[no-untyped-def]
    ana = make_person("ana@example.com")
    for name in ("A", "B", "C"):
        assert client.post(URL, json={"schemas": [GROUP], "displayName": name}, headers=scim).status_code == 201
    page = client.get(URL, params={"startIndex": "2", "count": "1"}, headers=scim).json()
    assert (page["totalResults"], page["itemsPerPage"], page["Resources"][0]["displayName"]) == (3, 1, "B")
    scim_error(client.post(URL, json={"schemas": [GROUP], "displayName": "A"}, headers=scim), 409, "uniqueness")
    scim_error(client.post(URL, json={"schemas": [GROUP]}, headers=scim), 400, "invalidValue")
    scim_error(client.get(f"{URL}/424242", headers=scim), 404)
    scim_error(client.get(URL, params={"filter": 'displayName co "A"'}, headers=scim), 400, "invalidFilter")
    gid = client.get(URL, params={"filter": 'displayName eq "A"'}, headers=scim).json()["Resources"][0]["id"]
    # an unknown member refuses the whole request: ana is not moved either
    both = {"op": "add", "path": "members", "value": [{"value": str(ana.id)}, {"value": "999999"}]}
    scim_error(client.patch(f"{URL}/{gid}", json=patch_op(both), headers=scim), 400, "invalidValue")
    assert person(engine, "ana@example.com")["team"] is None  # type: ignore[index]
    scim_error(
        client.patch(
            f"{URL}/{gid}", json=patch_op({"op": "replace", "path": "displayName", "value": "B"}), headers=scim
        ),
        409,
        "uniqueness",
    )
    scim_error(client.post(URL, json={"displayName": "D"}, headers={"Content-Type": SCIM}), 401)
    assert read(engine, lambda s: s.exec(select(Team).where(Team.name == "D")).first()) is None
