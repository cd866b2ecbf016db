"""GET/PUT /api/v1/teams (api.md, "Integration resources"): an idempotent, all-or-nothing upsert by name."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine, func
from sqlmodel import Session, select

from commissions.core.db import transaction
from commissions.core.periods import ensure_period
from commissions.models import AuditEvent, Person, StatementState, Team
from tests.conftest import read, sign_in
from tests.deals.test_deals_api import token_for

URL = "/api/v1/teams"


@pytest.fixture
def admin(engine: Engine, make_person) -> dict[str, str]:  # type: ignore[no-untyped-def]
    make_person("admin@example.com", "admin")
    make_person("erin@example.com", "manager")
    make_person("wes@example.com", "manager")
    return token_for(engine, "admin", "admin@example.com")


def put(client, headers: dict[str, str], body: Any):  # type: ignore[no-untyped-def]
    return client.put(URL, json=body, headers=headers)


def teams(engine: Engine) -> dict[str, dict[str, Any]]:
    def load(s: Session) -> dict[str, dict[str, Any]]:
        emails = {p.id: p.email for p in s.exec(select(Person)).all()}
        return {t.name: {"kind": t.kind, "manager": emails.get(t.manager_id)} for t in s.exec(select(Team)).all()}

    return read(engine, load)


def count(engine: Engine, model: Any) -> int:
    return read(engine, lambda s: s.exec(select(func.count()).select_from(model)).one())


EAST = {"name": "Sales East", "kind": "sales", "manager": "erin@example.com"}
GROWTH = {"name": "Growth", "kind": "marketing", "manager": None}


def test_create_then_the_same_body_again_changes_nothing(client, engine: Engine, admin) -> None:  # type: ignore[no-untyped-def]
    response = put(client, admin, [EAST, GROWTH])
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["changed"], report["created"], report["unchanged"]) == (True, 2, 0)
    assert [i["key"] for i in report["items"]] == ["Sales East", "Growth"]
    assert teams(engine) == {
        "Sales East": {"kind": "sales", "manager": "erin@example.com"},
        "Growth": {"kind": "marketing", "manager": None},
    }
    audit = count(engine, AuditEvent)
    again = put(client, admin, [EAST, GROWTH]).json()
    assert (again["changed"], again["unchanged"]) == (False, 2)
    assert count(engine, AuditEvent) == audit


def test_update_kind_and_manager_left_out_fields_stay_null_clears(client, engine: Engine, admin) -> None:  # type: ignore[no-untyped-def]
    put(client, admin, [EAST])
    assert put(client, admin, [{"name": "Sales East", "manager": "wes@example.com"}]).json()["updated"] == 1
    assert teams(engine)["Sales East"] == {"kind": "sales", "manager": "wes@example.com"}
    assert put(client, admin, [{"name": "Sales East", "kind": "marketing"}]).json()["updated"] == 1
    assert teams(engine)["Sales East"] == {"kind": "marketing", "manager": "wes@example.com"}
    assert put(client, admin, [{"name": "Sales East", "manager": None}]).json()["updated"] == 1
    assert teams(engine)["Sales East"] == {"kind": "marketing", "manager": None}
    assert put(client, admin, [{"name": " Sales East "}]).json()["unchanged"] == 1  # the name is trimmed
    actions = read(engine, lambda s: s.exec(select(AuditEvent.action).where(AuditEvent.object_type == "team")).all())
    assert actions.count("team.create") == 1 and actions.count("team.update") == 3


def test_a_new_team_is_a_sales_team_without_a_manager(client, engine: Engine, admin) -> None:  # type: ignore[no-untyped-def]
    assert put(client, admin, [{"name": "Sales West"}]).json()["created"] == 1
    assert teams(engine) == {"Sales West": {"kind": "sales", "manager": None}}


def test_a_team_change_queues_no_statement(client, engine: Engine, admin, make_person) -> None:  # type: ignore[no-untyped-def]
    with transaction(engine) as s:
        ensure_period(s, "2026-Q4")
    put(client, admin, [EAST])
    before = read(engine, lambda s: s.exec(select(func.sum(StatementState.input_version))).one())
    assert (
        put(client, admin, [{"name": "Sales East", "manager": "wes@example.com", "kind": "other"}]).json()["updated"]
        == 1
    )
    assert read(engine, lambda s: s.exec(select(func.sum(StatementState.input_version))).one()) == before


def test_get_pages_what_put_takes_and_sending_it_back_changes_nothing(client, engine: Engine, admin) -> None:  # type: ignore[no-untyped-def]
    body = [
        {"name": f"Team {i}", "kind": "sales" if i % 2 else "marketing", "manager": "erin@example.com"}
        for i in range(5)
    ]
    put(client, admin, body)
    first = client.get(URL, params={"limit": 2}, headers=admin)
    assert first.status_code == 200
    assert [t["name"] for t in first.json()["items"]] == ["Team 0", "Team 1"]
    assert first.json()["items"][0] == body[0]
    assert first.headers["X-Next-Cursor"] == first.json()["next_cursor"] and 'rel="next"' in first.headers["Link"]
    items, cursor = list(first.json()["items"]), first.json()["next_cursor"]
    while cursor:
        page = client.get(URL, params={"limit": 2, "cursor": cursor}, headers=admin).json()
        items += page["items"]
        cursor = page["next_cursor"]
    assert [t["name"] for t in items] == [f"Team {i}" for i in range(5)]
    assert put(client, admin, items).json()["changed"] is False
    assert client.get(URL, params={"cursor": "eA"}, headers=admin).status_code == 400
    people_cursor = client.get("/api/v1/people", params={"limit": 1}, headers=admin).json()["next_cursor"]
    assert client.get(URL, params={"cursor": people_cursor}, headers=admin).status_code == 400  # another list's


BAD_TEAMS: list[tuple[Any, str, str]] = [
    ({"name": "  "}, "name", "needs a name"),
    ({"name": "Team 2"}, "name", "also item 2"),
    ({"name": "X", "kind": "finance"}, "kind", "sales"),
    ({"name": "X", "kind": None}, "kind", "null"),
    ({"name": "X", "manager": "ghost@example.com"}, "manager", "ghost@example.com"),
    ({"name": "X", "manager": "not-an-email"}, "manager", "not an email"),
    ({"name": "X", "boss": "erin@example.com"}, "boss", "unknown field"),
    ({"name": "x" * 121}, "name", "120"),
    (["a list"], "item", "object"),
]


@pytest.mark.parametrize(("bad", "field", "words"), BAD_TEAMS, ids=[f"{b[1]}-{i}" for i, b in enumerate(BAD_TEAMS)])
def test_one_bad_team_refuses_all_ten(client, engine: Engine, admin, bad: Any, field: str, words: str) -> None:  # type: ignore[no-untyped-def]
    body: list[Any] = [{"name": f"Team {i}", "manager": "erin@example.com"} for i in range(10)]
    body[7] = bad
    response = put(client, admin, body)
    assert response.status_code == 400, response.text
    errors = response.json()["extra"]["errors"]
    assert [(e["index"], e["field"]) for e in errors] == [(7, field)], errors
    assert words in errors[0]["message"]
    assert count(engine, Team) == 0


@pytest.mark.parametrize("role", ["rep", "manager", "finance"])
def test_only_admins_read_or_write_teams(client, engine: Engine, admin, make_person, role: str) -> None:  # type: ignore[no-untyped-def]
    make_person(f"{role}@example.com", role)
    headers = token_for(engine, role, f"{role}@example.com")
    assert client.get(URL, headers=headers).status_code == 403
    assert put(client, headers, [EAST]).status_code == 403
    assert count(engine, Team) == 0


def test_anonymous_gets_401_and_a_session_reads_but_does_not_write(client, engine: Engine, admin) -> None:  # type: ignore[no-untyped-def]
    assert client.get(URL).status_code == 401
    assert put(client, {}, [EAST]).status_code == 401
    sign_in(client, "admin@example.com")
    assert client.get(URL).status_code == 200
    assert client.put(URL, json=[EAST]).status_code == 401
    assert count(engine, Team) == 0


def test_teams_first_then_people_then_the_teams_managers(client, engine: Engine, admin) -> None:  # type: ignore[no-untyped-def]
    """The order docs/integrations.md gives for loading an organisation from nothing."""
    assert put(client, admin, [{"name": "Sales North", "kind": "sales"}]).status_code == 200
    people = [
        {"email": "rep@example.com", "team": "Sales North", "manager": "lead@example.com"},
        {"email": "lead@example.com", "role": "manager", "team": "Sales North"},
    ]
    assert client.put("/api/v1/people", json=people, headers=admin).json()["created"] == 2
    assert put(client, admin, [{"name": "Sales North", "manager": "lead@example.com"}]).json()["updated"] == 1
    assert teams(engine)["Sales North"] == {"kind": "sales", "manager": "lead@example.com"}


def test_openapi_lists_the_team_routes_with_examples(client) -> None:  # type: ignore[no-untyped-def]
    schema = client.get("/schema/openapi.json").json()
    path = schema["paths"]["/api/v1/teams"]
    assert set(path) >= {"get", "put"}
    body = path["put"]["requestBody"]["content"]["application/json"]["schema"]
    assert body["examples"] and body["items"]["examples"] and body["items"]["additionalProperties"] is False
    assert path["put"]["responses"]["200"]["content"]["application/json"]["examples"]
    assert path["put"]["responses"]["400"]["content"]["application/json"]["examples"]
    assert schema["components"]["schemas"]["TeamOut"]["properties"]["kind"]["examples"]


def test_a_malformed_item_and_an_unknown_manager_are_reported_in_one_answer(client, engine: Engine, admin) -> None:  # type: ignore[no-untyped-def]
    before = teams(engine)
    response = put(
        client,
        admin,
        [{"name": "East", "kind": "retail"}, {"name": "West", "manager": "nobody@example.com"}, {"name": "North"}],
    )
    assert response.status_code == 400
    assert [(e["index"], e["field"]) for e in response.json()["extra"]["errors"]] == [(0, "kind"), (1, "manager")]
    assert teams(engine) == before


def test_a_name_differing_only_in_case_is_the_same_team(client, engine: Engine, admin) -> None:  # type: ignore[no-untyped-def]
    """ "sales east" from an HR system is Sales East, as in the admin's forms: no second team beside it (the
    leaderboard's team filter then found the empty twin), and people put on it join the one team."""
    assert put(client, admin, [EAST]).status_code == 200
    again = put(client, admin, [{**EAST, "name": "sales east"}]).json()
    assert (again["changed"], again["created"], again["unchanged"]) == (False, 0, 1)
    moved = put(client, admin, [{"name": "SALES EAST", "manager": "wes@example.com"}]).json()
    assert moved["changed"] is True and moved["created"] == 0
    assert teams(engine) == {"Sales East": {"kind": "sales", "manager": "wes@example.com"}}
    person = client.put(
        "/api/v1/people",
        json=[{"email": "new.rep@example.com", "name": "New Rep", "team": "sales east"}],
        headers=admin,
    )
    assert person.status_code == 200, person.text
    team_id = read(engine, lambda s: s.exec(select(Person.team_id).where(Person.email == "new.rep@example.com")).one())
    assert team_id == read(engine, lambda s: s.exec(select(Team.id).where(Team.name == "Sales East")).one())
    assert count(engine, Team) == 1


def test_one_list_naming_a_team_twice_in_two_cases_is_refused(client, engine: Engine, admin) -> None:  # type: ignore[no-untyped-def]
    refused = put(client, admin, [EAST, {**EAST, "name": "sales east"}])
    assert refused.status_code == 400
    assert refused.json()["extra"]["errors"] == [
        {"index": 1, "field": "name", "message": "team 'sales east' is also item 0: each team once"}
    ]
    assert count(engine, Team) == 0


def test_case_is_folded_alike_on_both_databases(client, engine: Engine, admin) -> None:  # type: ignore[no-untyped-def]
    """SQLite's lower() folds ASCII only: "équipe nord" made a second team there and not on PostgreSQL."""
    assert put(client, admin, [{"name": "Équipe Nord", "kind": "sales"}]).json()["created"] == 1
    again = put(client, admin, [{"name": "équipe nord", "kind": "sales"}]).json()
    assert (again["created"], again["unchanged"]) == (0, 1) and count(engine, Team) == 1
