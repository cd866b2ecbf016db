"""``PUT /api/v1/plans/{name}/assignments``: an idempotent, all-or-nothing upsert of who is on a plan when,
keyed by (person, from), that recomputes the statements it reaches."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, func
from sqlmodel import col, select

from commissions.calculation.check import check_period
from commissions.calculation.queue import drain
from commissions.models import AuditEvent, Person, PlanAssignment
from tests.calc_fixtures import EXAMPLE_PLAN, example_deal, store_quota
from tests.conftest import read
from tests.deals.test_deals_api import token_for
from tests.finance_fixtures import lines_in, period_row

PATH = "/api/v1/plans/AE 2026/assignments"
ANA = {"person": "ana@example.com", "from": "2026-01-01", "to": None, "prorate": False}
BO = {"person": "bo@example.com", "from": "2026-02-01", "to": "2026-12-31", "prorate": True}


@pytest.fixture
def tokens(client, engine: Engine, make_person) -> dict[str, dict[str, str]]:  # type: ignore[no-untyped-def]
    make_person("root@example.com", "admin")
    make_person("fin@example.com", "finance")
    make_person("mia@example.com", "manager")
    make_person("ana@example.com", manager="mia@example.com")
    make_person("bo@example.com", manager="mia@example.com")
    tokens = {
        "admin": token_for(engine, "admin", "root@example.com"),
        "finance": token_for(engine, "finance", "fin@example.com"),
        "manager": token_for(engine, "manager", "mia@example.com"),
        "rep": token_for(engine, "rep", "ana@example.com"),
    }
    plan = client.put(
        "/api/v1/plans/AE 2026",
        json={"document": EXAMPLE_PLAN, "effective_from": "2026-01-01"},
        headers=tokens["admin"],
    )
    assert plan.status_code == 201, plan.text
    return tokens


def assignments(engine: Engine) -> list[tuple]:
    return read(
        engine,
        lambda s: [
            (email, a.starts_on.isoformat(), a.ends_on.isoformat() if a.ends_on else None, a.prorate)
            for a, email in s.exec(
                select(PlanAssignment, Person.email)
                .join(Person, col(Person.id) == PlanAssignment.person_id)
                .order_by(Person.email, col(PlanAssignment.starts_on))
            ).all()
        ],
    )


def audit_count(engine: Engine) -> int:
    return read(
        engine,
        lambda s: s.exec(
            select(func.count()).select_from(AuditEvent).where(col(AuditEvent.action).startswith("plan.a"))
        ).one(),
    )


def test_create_update_and_the_same_body_twice_changes_nothing(client, engine: Engine, tokens) -> None:  # type: ignore[no-untyped-def]
    admin = tokens["admin"]
    created = client.put(PATH, json=[ANA, BO], headers=admin)
    assert created.status_code == 200, created.text
    assert created.json() == {
        "changed": True,
        "created": 2,
        "updated": 0,
        "unchanged": 0,
        "items": [
            {"index": 0, "key": "ana@example.com 2026-01-01", "result": "created"},
            {"index": 1, "key": "bo@example.com 2026-02-01", "result": "created"},
        ],
    }
    stored, audited = assignments(engine), audit_count(engine)
    assert stored == [
        ("ana@example.com", "2026-01-01", None, False),
        ("bo@example.com", "2026-02-01", "2026-12-31", True),
    ]
    again = client.put(PATH, json=[ANA, {k: v for k, v in BO.items()}], headers=admin)
    assert again.json()["changed"] is False and again.json()["unchanged"] == 2
    assert assignments(engine) == stored and audit_count(engine) == audited

    ended = client.put(PATH, json=[{**ANA, "to": "2026-06-30", "prorate": True}], headers=admin)
    assert ended.json()["items"] == [{"index": 0, "key": "ana@example.com 2026-01-01", "result": "updated"}]
    assert assignments(engine)[0] == ("ana@example.com", "2026-01-01", "2026-06-30", True)
    reopened = client.put(PATH, json=[{"person": "ANA@example.com", "from": "2026-01-01"}], headers=admin)
    assert reopened.json()["updated"] == 1  # `to` and `prorate` left out: open-ended, no proration
    assert assignments(engine)[0] == ("ana@example.com", "2026-01-01", None, False)


def test_the_plans_assignments_read_back_and_put_back_change_nothing(client, engine: Engine, tokens) -> None:  # type: ignore[no-untyped-def]
    admin = tokens["admin"]
    client.put(PATH, json=[ANA, BO], headers=admin)
    listed = client.get("/api/v1/plans/AE 2026", headers=admin).json()["assignments"]
    assert listed == [ANA, BO]
    back = client.put(PATH, json=listed, headers=admin)
    assert back.json()["changed"] is False


def test_one_list_may_end_an_assignment_and_start_the_next(client, engine: Engine, tokens) -> None:  # type: ignore[no-untyped-def]
    admin = tokens["admin"]
    client.put(PATH, json=[ANA], headers=admin)
    moved = client.put(
        PATH, json=[{**ANA, "from": "2026-07-01"}, {**ANA, "to": "2026-06-30"}], headers=admin
    )  # the new one first in the list: the end of the old one is applied before it
    assert moved.status_code == 200, moved.text
    assert [i["result"] for i in moved.json()["items"]] == ["created", "updated"]
    assert assignments(engine) == [
        ("ana@example.com", "2026-01-01", "2026-06-30", False),
        ("ana@example.com", "2026-07-01", None, False),
    ]


def test_a_bad_item_refuses_the_whole_list_naming_every_index_and_field(client, engine: Engine, tokens) -> None:  # type: ignore[no-untyped-def]
    admin = tokens["admin"]
    client.put(PATH, json=[ANA], headers=admin)
    before, audited = assignments(engine), audit_count(engine)
    items = [
        BO,  # fine on its own
        {**BO, "person": "nobody@example.com"},
        {**BO, "from": "2026-03-01", "to": "2026-02-01", "person": "mia@example.com"},
        {**BO},  # the same person and day twice
        {**ANA, "from": "2026-03-01"},  # overlaps ana's open-ended assignment
    ]
    response = client.put(PATH, json=items, headers=admin)
    assert response.status_code == 400, response.text
    errors = response.json()["extra"]["errors"]
    # every bad item at once: the overlap (found when the items are tried) beside the others
    assert [(e["index"], e["field"]) for e in errors] == [(1, "person"), (2, "to"), (3, "from"), (4, "from")]
    assert "nobody@example.com" in errors[0]["message"] and "already on AE 2026" in errors[3]["message"]
    assert assignments(engine) == before and audit_count(engine) == audited
    # the overlap alone, and still nothing written
    overlap = client.put(PATH, json=[BO, {**ANA, "from": "2026-03-01"}], headers=admin)
    assert overlap.status_code == 400, overlap.text
    [problem] = overlap.json()["extra"]["errors"]
    assert (problem["index"], problem["field"]) == (1, "from") and "already on AE 2026" in problem["message"]
    assert assignments(engine) == before and audit_count(engine) == audited  # bo was not assigned either


@pytest.mark.parametrize(
    ("item", "field"),
    [
        ({**ANA, "until": "2026-12-31"}, "until"),
        ({"person": "ana@example.com"}, "from"),
        ({**ANA, "from": "01/01/2026"}, "from"),
        ({**ANA, "prorate": "sometimes"}, "prorate"),
    ],
)
def test_malformed_items_are_named_by_index_and_field(client, engine: Engine, tokens, item: dict, field: str) -> None:  # type: ignore[no-untyped-def]
    response = client.put(PATH, json=[BO, item], headers=tokens["admin"])
    assert response.status_code == 400, response.text
    assert [(e["index"], e["field"]) for e in response.json()["extra"]["errors"]] == [(1, field)]
    assert assignments(engine) == []
    if field == "until":  # named as the API takes them ("from"), not as Python holds them (from_)
        assert "expected person, from, to, prorate" in response.json()["extra"]["errors"][0]["message"]


def test_an_unknown_plan_is_404(client, engine: Engine, tokens) -> None:  # type: ignore[no-untyped-def]
    response = client.put("/api/v1/plans/Nope/assignments", json=[ANA], headers=tokens["admin"])
    assert response.status_code == 404 and assignments(engine) == []


@pytest.mark.parametrize("role", ["finance", "manager", "rep"])
def test_only_admins_assign(client, engine: Engine, tokens, role: str) -> None:  # type: ignore[no-untyped-def]
    assert client.put(PATH, json=[ANA], headers=tokens[role]).status_code == 403
    assert client.put(PATH, json=[ANA]).status_code == 401
    assert assignments(engine) == []


def test_assignments_queue_the_statements_they_reach_and_the_ledger_equals_a_fresh_calculation(
    client, engine: Engine, tokens
) -> None:  # type: ignore[no-untyped-def]
    admin = tokens["admin"]
    store_quota(engine, "ana@example.com", 100_000)
    for deal in (
        example_deal("D-1", "60000", "2026-01-10"),
        example_deal("D-2", "45000", "2026-02-03", product="Enterprise", term_months=36),
    ):
        assert client.post("/api/v1/deals", json=deal, headers=admin).status_code == 201
    drain(engine)

    def total() -> int:
        if period_row(engine, "2026-Q1") is None:
            return 0
        return sum(line.amount_minor for line in lines_in(engine, "ana@example.com", "2026-Q1"))

    assert total() == 0  # on no plan yet
    assert client.put(PATH, json=[ANA], headers=admin).json()["created"] == 1
    assert not check_period(engine, "2026-Q1").ok  # queued
    drain(engine)
    assert total() == 1_375_000  # plans.md's worked example: 13,750.00
    assert check_period(engine, "2026-Q1").differences == []

    # ending her on the plan inside the quarter with proration: the quota shrinks to the days on the plan
    client.put(PATH, json=[{**ANA, "to": "2026-02-14", "prorate": True}], headers=admin)
    drain(engine)
    assert total() != 1_375_000
    assert check_period(engine, "2026-Q1").differences == []
