"""GET/PUT /api/v1/people (api.md, "Integration resources"): an idempotent, all-or-nothing upsert by email."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from threading import Barrier
from typing import Any

import pytest
from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from commissions.core.db import transaction
from commissions.core.periods import ensure_period
from commissions.models import AuditEvent, PayoutLine, Person, StatementState, Team
from tests.conftest import read, sign_in
from tests.deals.test_deals_api import token_for

URL = "/api/v1/people"


@pytest.fixture
def admin(engine: Engine, make_person) -> dict[str, str]:  # type: ignore[no-untyped-def]
    make_person("admin@example.com", "admin")
    with transaction(engine) as s:
        s.add_all([Team(name="Sales East"), Team(name="Sales West"), Team(name="Growth", kind="marketing")])
    return token_for(engine, "admin", "admin@example.com")


def put(client, headers: dict[str, str], body: Any):  # type: ignore[no-untyped-def]
    return client.put(URL, json=body, headers=headers)


def people(engine: Engine) -> dict[str, dict[str, Any]]:
    """Every stored person as the API shows them, by email."""

    def load(s: Session) -> dict[str, dict[str, Any]]:
        teams = {t.id: t.name for t in s.exec(select(Team)).all()}
        rows = s.exec(select(Person)).all()
        emails = {p.id: p.email for p in rows}
        return {
            p.email: {
                "name": p.name,
                "role": p.role,
                "team": teams.get(p.team_id),
                "manager": emails.get(p.manager_id),
                "employee_id": p.employee_id,
                "active": p.active,
                "locale": p.locale,
            }
            for p in rows
        }

    return read(engine, load)


def count(engine: Engine, model: Any) -> int:
    return read(engine, lambda s: s.exec(select(func.count()).select_from(model)).one())


def versions(engine: Engine) -> dict[tuple[str, str], int]:
    """The recalculation queue: each statement's input version, by (email, period)."""
    return read(
        engine,
        lambda s: {
            (email, key): version
            for email, key, version in s.exec(
                select(Person.email, StatementState.period_key, StatementState.input_version).join(
                    Person, col(Person.id) == StatementState.person_id
                )
            ).all()
        },
    )


ANA = {
    "email": "ana@example.com",
    "name": "Ana Alvarez",
    "role": "rep",
    "team": "Sales East",
    "manager": "erin@example.com",
    "employee_id": "E-2",
    "active": True,
    "locale": "en-GB",
}
ERIN = {
    "email": "erin@example.com",
    "name": "Erin East",
    "role": "manager",
    "team": "Sales East",
    "manager": None,
    "employee_id": "E-1",
    "active": True,
    "locale": "ms",
}


def test_create_then_the_same_body_again_changes_nothing(client, engine: Engine, admin) -> None:  # type: ignore[no-untyped-def]
    response = put(client, admin, [ANA, ERIN])  # ana's manager comes later in the list
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["changed"], report["created"], report["updated"], report["unchanged"]) == (True, 2, 0, 0)
    assert report["items"] == [
        {"index": 0, "key": "ana@example.com", "result": "created"},
        {"index": 1, "key": "erin@example.com", "result": "created"},
    ]
    stored = people(engine)
    assert stored["ana@example.com"] == {k: v for k, v in ANA.items() if k != "email"}
    assert stored["erin@example.com"] == {k: v for k, v in ERIN.items() if k != "email"}
    assert (
        read(engine, lambda s: s.exec(select(Person).where(Person.email == "ana@example.com")).one().password_hash)
        is None
    )
    audit, people_before = count(engine, AuditEvent), people(engine)

    again = put(client, admin, [ANA, ERIN]).json()
    assert (again["changed"], again["created"], again["updated"], again["unchanged"]) == (False, 0, 0, 2)
    assert [item["result"] for item in again["items"]] == ["unchanged", "unchanged"]
    assert count(engine, AuditEvent) == audit  # nothing written, so nothing audited
    assert people(engine) == people_before


def test_an_email_in_another_case_is_the_same_person(client, engine: Engine, admin) -> None:  # type: ignore[no-untyped-def]
    put(client, admin, [ERIN])
    report = put(client, admin, [{**ERIN, "email": "  Erin@Example.COM "}]).json()
    assert report["items"] == [{"index": 0, "key": "erin@example.com", "result": "unchanged"}]
    assert count(engine, Person) == 2  # erin and the admin


def test_left_out_fields_stay_and_null_clears_the_optional_ones(client, engine: Engine, admin) -> None:  # type: ignore[no-untyped-def]
    put(client, admin, [ERIN, ANA])
    report = put(client, admin, [{"email": "ana@example.com", "name": "Ana A."}]).json()
    assert report["items"][0]["result"] == "updated"
    assert people(engine)["ana@example.com"] == {**{k: v for k, v in ANA.items() if k != "email"}, "name": "Ana A."}

    cleared = put(
        client,
        admin,
        [{"email": "ana@example.com", "team": None, "manager": None, "employee_id": None, "locale": None}],
    )
    assert cleared.json()["updated"] == 1
    assert people(engine)["ana@example.com"] == {
        "name": "Ana A.",
        "role": "rep",
        "team": None,
        "manager": None,
        "employee_id": None,
        "active": True,
        "locale": None,
    }


def test_a_new_person_gets_defaults_for_what_is_left_out(client, engine: Engine, admin) -> None:  # type: ignore[no-untyped-def]
    assert put(client, admin, [{"email": "Bo.Berg@example.com"}]).json()["created"] == 1
    assert people(engine)["bo.berg@example.com"] == {
        "name": "bo.berg",
        "role": "rep",
        "team": None,
        "manager": None,
        "employee_id": None,
        "active": True,
        "locale": None,
    }


def test_get_lists_what_put_takes_and_sending_it_back_changes_nothing(client, engine: Engine, admin) -> None:  # type: ignore[no-untyped-def]
    body = [
        ANA,
        ERIN,
        {"email": "cy@example.com", "name": "Cy", "role": "finance", "active": False, "locale": "th"},
        {
            "email": "di@example.com",
            "name": "Di",
            "team": "Growth",
            "manager": "ana@example.com",
            "locale": "zh-hant-tw",
        },
    ]
    assert put(client, admin, body).status_code == 200
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = client.get(URL, params={"limit": 2, **({"cursor": cursor} if cursor else {})}, headers=admin).json()
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    by_email = {i["email"]: i for i in items}
    assert len(items) == len(by_email) == 5  # each once, over three pages
    assert by_email["ana@example.com"] == {**ANA, "payment_currency": None}
    assert by_email["di@example.com"]["locale"] == "zh-Hant-TW"  # stored in the canonical case
    assert set(items[0]) == {
        "email",
        "name",
        "role",
        "team",
        "manager",
        "employee_id",
        "active",
        "locale",
        "payment_currency",
    }
    audit = count(engine, AuditEvent)
    report = put(client, admin, items).json()
    assert report["changed"] is False and report["unchanged"] == 5
    assert count(engine, AuditEvent) == audit


def test_paging_by_cursor_with_link_headers(client, engine: Engine, admin) -> None:  # type: ignore[no-untyped-def]
    put(client, admin, [{"email": f"p{i:02}@example.com", "team": "Sales West"} for i in range(7)])
    first = client.get(URL, params={"limit": 3, "team": "Sales West"}, headers=admin)
    assert first.status_code == 200
    body = first.json()
    assert [p["email"] for p in body["items"]] == ["p00@example.com", "p01@example.com", "p02@example.com"]
    assert first.headers["X-Next-Cursor"] == body["next_cursor"]
    assert 'rel="next"' in first.headers["Link"] and "team=Sales+West" in first.headers["Link"]
    link = first.headers["Link"].split(">")[0].lstrip("<")
    second = client.get(link, headers=admin).json()
    assert [p["email"] for p in second["items"]] == ["p03@example.com", "p04@example.com", "p05@example.com"]
    last = client.get(URL, params={"limit": 3, "team": "Sales West", "cursor": second["next_cursor"]}, headers=admin)
    assert [p["email"] for p in last.json()["items"]] == ["p06@example.com"]
    assert last.json()["next_cursor"] is None and "Link" not in last.headers and "X-Next-Cursor" not in last.headers
    assert len(client.get(URL, headers=admin).json()["items"]) == 8  # default limit 100
    bad = client.get(URL, params={"cursor": "not-a-cursor"}, headers=admin)
    assert bad.status_code == 400 and bad.json()["extra"]["field"] == "cursor"
    assert client.get(URL, params={"limit": 1001}, headers=admin).status_code == 400


def test_filters_team_active_and_search(client, engine: Engine, admin) -> None:  # type: ignore[no-untyped-def]
    put(
        client,
        admin,
        [
            {"email": "ana@example.com", "name": "Ana Alvarez", "team": "Sales East"},
            {"email": "bo@example.com", "name": "Bo Berg", "team": "Sales East", "active": False},
            {"email": "cy@example.com", "name": "Cy 100%_ off", "team": "Growth"},
        ],
    )

    def emails(**params: Any) -> list[str]:
        response = client.get(URL, params=params, headers=admin)
        assert response.status_code == 200, response.text
        return [p["email"] for p in response.json()["items"]]

    assert emails(team="Sales East") == ["ana@example.com", "bo@example.com"]
    assert emails(active="false") == ["bo@example.com"]
    assert emails(team="Sales East", active="true") == ["ana@example.com"]
    assert emails(q="ALVAREZ") == ["ana@example.com"]
    assert emails(q="bo@") == ["bo@example.com"]
    assert emails(q="%_") == ["cy@example.com"]  # wildcards are plain text
    assert emails(team="Nobody") == []


BAD_ITEMS: list[tuple[dict[str, Any], str, str]] = [
    ({"email": "not-an-email"}, "email", "not an email address"),
    ({"email": "x@example.com", "role": "boss"}, "role", "rep"),
    ({"email": "x@example.com", "team": "Nowhere"}, "team", "PUT /api/v1/teams"),
    ({"email": "x@example.com", "manager": "ghost@example.com"}, "manager", "ghost@example.com"),
    ({"email": "x@example.com", "manager": "x@example.com"}, "manager", "own manager"),
    ({"email": "p1@example.com"}, "email", "also item 1"),  # twice in the list
    ({"email": "x@example.com", "employee_id": "E-1"}, "employee_id", "also item 1"),
    ({"email": "x@example.com", "employee_id": "E-ADMIN"}, "employee_id", "admin@example.com"),
    ({"email": "x@example.com", "locale": "english please"}, "locale", "language tag"),
    ({"email": "x@example.com", "emial": "typo"}, "emial", "unknown field"),
    ({"email": "x@example.com", "name": None}, "name", "null"),
    ({"email": "x@example.com", "active": None}, "active", "null"),
    ({"email": "x@example.com", "active": "perhaps"}, "active", "bool"),
    ("just a string", "item", "object"),
]


@pytest.mark.parametrize(("bad", "field", "words"), BAD_ITEMS, ids=[f"{b[1]}-{i}" for i, b in enumerate(BAD_ITEMS)])
def test_one_bad_item_refuses_all_ten(client, engine: Engine, admin, bad: Any, field: str, words: str) -> None:  # type: ignore[no-untyped-def]
    with transaction(engine) as s:
        s.exec(select(Person).where(Person.email == "admin@example.com")).one().employee_id = "E-ADMIN"
    body: list[Any] = [{"email": f"p{i}@example.com", "team": "Sales East"} for i in range(10)]
    body[1]["employee_id"] = "E-1"
    body[7] = bad
    before, audit = people(engine), count(engine, AuditEvent)
    response = put(client, admin, body)
    assert response.status_code == 400, response.text
    errors = response.json()["extra"]["errors"]
    assert [(e["index"], e["field"]) for e in errors] == [(7, field)], errors
    assert words in errors[0]["message"]
    assert response.json()["detail"].startswith(f"item 7: {field}: ")
    assert people(engine) == before and count(engine, Person) == 1  # nothing of the other nine was written
    assert count(engine, AuditEvent) == audit


def test_every_problem_is_reported_at_once(client, engine: Engine, admin) -> None:  # type: ignore[no-untyped-def]
    response = put(
        client,
        admin,
        [{"email": "a@example.com", "role": "boss"}, {"email": "b@example.com"}, {"email": "bad", "locale": "??"}],
    )
    assert response.status_code == 400
    assert {(e["index"], e["field"]) for e in response.json()["extra"]["errors"]} == {
        (0, "role"),
        (2, "email"),
        (2, "locale"),
    }


def test_malformed_items_and_items_the_stored_data_refuses_are_reported_in_one_answer(
    client, engine: Engine, admin
) -> None:  # type: ignore[no-untyped-def]
    """An integration fixing its list from one answer needs every wrong item in it: the stored data's refusals
    (an unknown manager or team) are not held back until the malformed items are mended."""
    before = people(engine)
    body = [
        {"email": "ok@example.com", "name": "Fine"},
        {"email": "a@example.com", "role": "boss"},
        {"email": "b@example.com", "manager": "nobody@example.com"},
        {"email": "not-an-email"},
        {"email": "c@example.com", "team": "No such team"},
    ]
    response = put(client, admin, body)
    assert response.status_code == 400
    assert [(e["index"], e["field"]) for e in response.json()["extra"]["errors"]] == [
        (1, "role"),
        (2, "manager"),
        (3, "email"),
        (4, "team"),
    ]
    assert people(engine) == before  # nothing written


def test_a_body_that_is_not_a_list_or_too_long_is_refused(client, engine: Engine, admin) -> None:  # type: ignore[no-untyped-def]
    assert put(client, admin, {"email": "a@example.com"}).status_code == 400
    too_many = put(client, admin, [{"email": f"p{i}@example.com"} for i in range(5001)])
    assert too_many.status_code == 400 and "5000" in too_many.json()["detail"]
    assert count(engine, Person) == 1


def test_manager_cycles_are_refused_in_the_list_and_through_stored_people(client, engine: Engine, admin) -> None:  # type: ignore[no-untyped-def]
    looped = put(
        client,
        admin,
        [
            {"email": "a@example.com", "manager": "b@example.com"},
            {"email": "b@example.com", "manager": "c@example.com"},
            {"email": "c@example.com", "manager": "a@example.com"},
        ],
    )
    assert looped.status_code == 400
    errors = looped.json()["extra"]["errors"]
    assert {e["index"] for e in errors} == {0, 1, 2} and all(e["field"] == "manager" for e in errors)
    assert "a@example.com → b@example.com → c@example.com → a@example.com" in errors[0]["message"]
    assert count(engine, Person) == 1

    assert (
        put(client, admin, [{"email": "b@example.com"}, {"email": "a@example.com", "manager": "b@example.com"}]).json()[
            "created"
        ]
        == 2
    )
    through_stored = put(client, admin, [{"email": "b@example.com", "manager": "a@example.com"}])
    assert through_stored.status_code == 400
    assert "b@example.com → a@example.com → b@example.com" in through_stored.json()["extra"]["errors"][0]["message"]
    # turning it round in one list is fine: a no longer reports to b when b starts reporting to a
    swapped = put(
        client,
        admin,
        [{"email": "b@example.com", "manager": "a@example.com"}, {"email": "a@example.com", "manager": None}],
    )
    assert swapped.status_code == 200, swapped.text
    assert people(engine)["b@example.com"]["manager"] == "a@example.com"
    assert people(engine)["a@example.com"]["manager"] is None


def test_an_employee_id_may_move_between_people_in_one_list(client, engine: Engine, admin) -> None:  # type: ignore[no-untyped-def]
    put(
        client,
        admin,
        [{"email": "a@example.com", "employee_id": "E-1"}, {"email": "b@example.com", "employee_id": "E-2"}],
    )
    swapped = put(
        client,
        admin,
        [{"email": "a@example.com", "employee_id": "E-2"}, {"email": "b@example.com", "employee_id": "E-1"}],
    )
    assert swapped.status_code == 200, swapped.text
    stored = people(engine)
    assert (stored["a@example.com"]["employee_id"], stored["b@example.com"]["employee_id"]) == ("E-2", "E-1")


def test_deactivation_ends_sessions_keeps_pay_history_and_reactivation_works(
    client, engine: Engine, admin, make_person
) -> None:  # type: ignore[no-untyped-def]
    ana = make_person("ana@example.com", team="Sales East")
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
    assert client.get("/api/v1/me", headers=ana_token).status_code == 200

    response = put(client, admin, [{"email": "ana@example.com", "active": False}])
    assert response.json()["items"][0]["result"] == "updated"
    assert client.get("/", follow_redirects=False).status_code in (302, 303)  # her session was ended
    assert client.get("/api/v1/me", headers=ana_token).status_code == 401  # and her token revoked
    assert read(engine, lambda s: s.exec(select(func.count()).where(PayoutLine.person_id == ana.id)).one()) == lines
    assert people(engine)["ana@example.com"]["active"] is False
    assert (
        read(
            engine, lambda s: s.exec(select(AuditEvent.action).where(AuditEvent.object_id == str(ana.id))).all()
        ).count("person.deactivate")
        == 1
    )

    assert put(client, admin, [{"email": "ana@example.com", "active": True}]).json()["updated"] == 1
    client.cookies.clear()
    assert sign_in(client, "ana@example.com").status_code in (302, 303)
    assert client.get("/", follow_redirects=False).status_code == 200


def test_a_manager_or_team_change_queues_the_statements_it_moves(client, engine: Engine, admin, make_person) -> None:  # type: ignore[no-untyped-def]
    make_person("vp@example.com", "manager")
    make_person("one@example.com", "manager", manager="vp@example.com")
    make_person("two@example.com", "manager")
    make_person("ana@example.com", manager="one@example.com")
    with transaction(engine) as s:
        ensure_period(s, "2026-Q4")
    before = versions(engine)

    assert (
        put(client, admin, [{"email": "ana@example.com", "name": "Ana Renamed", "locale": "en"}]).json()["updated"] == 1
    )
    assert versions(engine) == before  # a name or language moves no pay

    assert put(client, admin, [{"email": "ana@example.com", "manager": "two@example.com"}]).json()["updated"] == 1
    after = versions(engine)
    moved = {email for (email, key), v in after.items() if key == "2026-Q4" and v > before.get((email, key), 0)}
    assert moved == {"ana@example.com", "one@example.com", "vp@example.com", "two@example.com"}
    assert "admin@example.com" not in {email for email, _ in after}

    again = versions(engine)
    assert put(client, admin, [{"email": "ana@example.com", "manager": "two@example.com"}]).json()["changed"] is False
    assert versions(engine) == again  # the same body queues nothing

    assert put(client, admin, [{"email": "ana@example.com", "team": "Sales West"}]).json()["updated"] == 1
    bumped = {e for (e, k), v in versions(engine).items() if k == "2026-Q4" and v > again.get((e, k), 0)}
    assert bumped == {"ana@example.com", "two@example.com"}
    actions = read(engine, lambda s: s.exec(select(AuditEvent.action).where(AuditEvent.action == "person.move")).all())
    assert len(actions) == 2


def test_an_admin_cannot_deactivate_or_demote_themself(client, engine: Engine, admin) -> None:  # type: ignore[no-untyped-def]
    response = put(client, admin, [{"email": "admin@example.com", "active": False, "role": "rep"}])
    assert response.status_code == 400
    assert {e["field"] for e in response.json()["extra"]["errors"]} == {"active", "role"}
    assert people(engine)["admin@example.com"]["active"] is True


@pytest.mark.parametrize("role", ["rep", "manager", "finance"])
def test_only_admins_read_or_write_people(client, engine: Engine, admin, make_person, role: str) -> None:  # type: ignore[no-untyped-def]
    make_person(f"{role}@example.com", role)
    headers = token_for(engine, role, f"{role}@example.com")
    before = people(engine)
    assert client.get(URL, headers=headers).status_code == 403
    assert put(client, headers, [{"email": "new@example.com"}]).status_code == 403
    assert people(engine) == before


def test_anonymous_gets_401_and_a_session_reads_but_does_not_write(client, engine: Engine, admin) -> None:  # type: ignore[no-untyped-def]
    assert client.get(URL).status_code == 401
    assert put(client, {}, [{"email": "new@example.com"}]).status_code == 401
    sign_in(client, "admin@example.com")
    assert client.get(URL).status_code == 200
    assert client.put(URL, json=[{"email": "new@example.com"}]).status_code == 401  # API writes need a token
    assert "new@example.com" not in people(engine)
    assert put(client, admin, [{"email": "new@example.com"}]).status_code == 200  # an admin token works


def test_two_puts_of_overlapping_new_people_at_once_make_no_duplicates(client, engine: Engine, admin) -> None:  # type: ignore[no-untyped-def]
    """Threads through the one test client (one event loop, handlers in worker threads, as in production)."""
    statuses: list[int] = []
    for round_ in range(3):
        barrier = Barrier(2)
        bodies = [
            [{"email": f"p{round_}-{i}@example.com", "team": "Sales East"} for i in range(0, 30)],
            [{"email": f"p{round_}-{i}@example.com", "team": "Sales West"} for i in range(15, 45)],
        ]

        def send(body: list[dict[str, Any]], barrier: Barrier = barrier) -> int:
            barrier.wait(timeout=10)
            return int(client.put(URL, json=body, headers=admin).status_code)

        with ThreadPoolExecutor(2) as pool:
            statuses += list(pool.map(send, bodies))
    assert set(statuses) <= {200, 409} and 200 in statuses, statuses
    stored = read(engine, lambda s: s.exec(select(Person.email)).all())
    assert len(stored) == len(set(stored)) == 3 * 45 + 1  # each once, and the admin


def test_a_large_list_with_managers_after_their_reports(client, engine: Engine, admin) -> None:  # type: ignore[no-untyped-def]
    managers = [{"email": f"m{i}@example.com", "role": "manager", "team": "Sales East"} for i in range(40)]
    reps = [
        {
            "email": f"r{i}@example.com",
            "team": "Sales East",
            "manager": f"m{i % 40}@example.com",
            "employee_id": f"R{i}",
        }
        for i in range(1960)
    ]
    response = put(client, admin, reps + managers)
    assert response.status_code == 200, response.text[:500]
    assert response.json()["created"] == 2000
    stored = people(engine)
    assert stored["r1959@example.com"]["manager"] == "m39@example.com"
    again = put(client, admin, reps + managers).json()
    assert again["unchanged"] == 2000 and again["changed"] is False


def test_openapi_lists_the_people_routes_with_examples(client) -> None:  # type: ignore[no-untyped-def]
    schema = client.get("/schema/openapi.json").json()
    people_path = schema["paths"]["/api/v1/people"]
    assert set(people_path) >= {"get", "put"}
    put_op, get_op = people_path["put"], people_path["get"]
    assert put_op["summary"] and put_op["description"] and get_op["description"]
    body = put_op["requestBody"]["content"]["application/json"]
    assert body["schema"]["examples"] and body["schema"]["items"]["examples"]
    assert body["schema"]["items"]["additionalProperties"] is False
    assert {p["name"] for p in get_op["parameters"]} >= {"limit", "cursor", "team", "active", "q"}
    assert "examples" in put_op["responses"]["400"]["content"]["application/json"]
    assert put_op["responses"]["200"]["content"]["application/json"]["examples"]
    assert set(get_op["responses"]["200"]["headers"]) == {"Link", "X-Next-Cursor"}
    person = schema["components"]["schemas"]["PersonOut"]["properties"]
    assert all(person[name]["examples"] for name in ("email", "manager", "locale"))


def test_a_payment_currency_is_set_cleared_and_checked(client, engine: Engine, admin) -> None:  # type: ignore[no-untyped-def]
    """The payroll export pays a person in their payment currency (docs/finance.md); HR sync sets it here."""
    created = put(client, admin, [{"email": "ana@example.com", "payment_currency": "eur"}])
    assert created.status_code == 200, created.text

    def stored() -> str | None:
        return read(
            engine, lambda s: s.exec(select(Person.payment_currency).where(Person.email == "ana@example.com")).one()
        )

    assert stored() == "EUR"
    listed = client.get(URL, headers=admin).json()["items"]
    assert {p["email"]: p["payment_currency"] for p in listed}["ana@example.com"] == "EUR"
    assert put(client, admin, [{"email": "ana@example.com", "payment_currency": "EUR"}]).json()["changed"] is False
    refused = put(client, admin, [{"email": "ana@example.com", "payment_currency": "E1R"}])
    assert refused.status_code == 400
    assert refused.json()["extra"]["errors"][0]["field"] == "payment_currency"
    assert stored() == "EUR"
    assert put(client, admin, [{"email": "ana@example.com", "payment_currency": None}]).json()["updated"] == 1
    assert stored() is None


@pytest.mark.parametrize("value", ["no", "yes", 0, 1, "false"])
def test_active_is_true_or_false_not_a_guess(client, engine: Engine, admin, value: object) -> None:  # type: ignore[no-untyped-def]
    """ "active": "no" was read as false and "yes" as true (pydantic's lax booleans), 1 and 0 too: a sync sending
    "N" or "inactive" would have been guessed at. Refused, naming the field; nothing stored."""
    answer = put(client, admin, [{"email": "strict@example.com", "name": "Strict", "active": value}])
    assert answer.status_code == 400, answer.text
    assert "active" in str(answer.json()["extra"]) and "strict@example.com" not in people(engine)
