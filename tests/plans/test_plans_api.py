"""``GET /api/v1/plans``, ``GET``/``PUT /api/v1/plans/{name}`` (api.md "Integration resources"): a plan
document becomes a new version only when it is a different plan from the version in force; invalid
documents are answered as plans.md says; admins only."""

from __future__ import annotations

import json

import pytest
import yaml
from sqlalchemy import Engine, func
from sqlmodel import col, select

from commissions.calculation.check import check_period
from commissions.calculation.queue import drain
from commissions.models import PayoutLine, Person, Plan, PlanVersion
from tests.calc_fixtures import EXAMPLE_PLAN, example_deal, store_quota
from tests.conftest import read
from tests.deals.test_deals_api import token_for

PATH = "/api/v1/plans/AE 2026"
SIMPLE = """name: Flat
currency: USD
period: quarter
quota: bookings
components:
  - name: Commission
    kind: per_deal
    rate: 10%
"""


@pytest.fixture
def tokens(engine: Engine, make_person) -> dict[str, dict[str, str]]:  # type: ignore[no-untyped-def]
    make_person("root@example.com", "admin")
    make_person("fin@example.com", "finance")
    make_person("mia@example.com", "manager")
    make_person("ana@example.com", manager="mia@example.com")
    return {
        "admin": token_for(engine, "admin", "root@example.com"),
        "finance": token_for(engine, "finance", "fin@example.com"),
        "manager": token_for(engine, "manager", "mia@example.com"),
        "rep": token_for(engine, "rep", "ana@example.com"),
    }


def versions(engine: Engine, name: str = "AE 2026") -> list[tuple[int, str]]:
    return read(
        engine,
        lambda s: [
            (v.version, v.effective_from.isoformat())
            for v in s.exec(
                select(PlanVersion).join(Plan, col(Plan.id) == PlanVersion.plan_id).where(Plan.name == name)
            ).all()
        ],
    )


def plan_count(engine: Engine) -> int:
    return read(engine, lambda s: s.exec(select(func.count()).select_from(Plan)).one())


def test_a_new_plan_is_201_the_same_plan_again_unchanged_a_different_one_a_new_version(
    client, engine: Engine, tokens
) -> None:  # type: ignore[no-untyped-def]
    admin = tokens["admin"]
    created = client.put(PATH, json={"document": EXAMPLE_PLAN, "effective_from": "2026-01-01"}, headers=admin)
    assert created.status_code == 201, created.text
    assert created.json() == {
        "plan": "AE 2026",
        "result": "created",
        "changed": True,
        "version": 1,
        "effective_from": "2026-01-01",
    }

    again = client.put(PATH, json={"document": EXAMPLE_PLAN, "effective_from": "2026-01-01"}, headers=admin)
    assert again.status_code == 200 and again.json()["result"] == "unchanged" and again.json()["changed"] is False

    # the same plan written as a JSON object, and with 15% written 0.15, from a later date: still the same plan
    as_json = yaml.safe_load(EXAMPLE_PLAN.replace("rate: 15%", "rate: 0.15"))  # 0.15: a JSON number
    as_json["components"][0]["on"] = as_json["components"][0].pop(True)  # YAML 1.1 reads the key `on` as true
    as_json["components"][1]["from"], as_json["components"][1]["to"] = "2026-01-01", "2026-03-31"
    same = client.put(PATH, json={"document": as_json, "effective_from": "2026-04-01"}, headers=admin)
    assert same.status_code == 200, same.text
    assert same.json() == {
        "plan": "AE 2026",
        "result": "unchanged",
        "changed": False,
        "version": 1,
        "effective_from": "2026-01-01",
    }
    assert versions(engine) == [(1, "2026-01-01")]
    # api.md's "body: the plan document and effective_from": the document's fields at the top level
    flat_body = client.put(PATH, json={**as_json, "effective_from": "2026-04-01"}, headers=admin)
    assert flat_body.status_code == 200 and flat_body.json()["result"] == "unchanged", flat_body.text
    new_flat = client.put(
        "/api/v1/plans/Flat", json={**yaml.safe_load(SIMPLE), "effective_from": "2026-01-01"}, headers=admin
    )
    assert new_flat.status_code == 201 and new_flat.json()["version"] == 1, new_flat.text
    assert versions(engine, "Flat") == [(1, "2026-01-01")]

    richer = EXAMPLE_PLAN.replace("pay: 2500", "pay: 3000")
    changed = client.put(PATH, json={"document": richer, "effective_from": "2026-04-01"}, headers=admin)
    assert changed.status_code == 200, changed.text
    assert changed.json()["result"] == "new version" and changed.json()["version"] == 2
    assert versions(engine) == [(1, "2026-01-01"), (2, "2026-04-01")]
    # the first version is still the one in force on 2026-02-01: sending it for that day changes nothing
    old = client.put(PATH, json={"document": EXAMPLE_PLAN, "effective_from": "2026-02-01"}, headers=admin)
    assert old.json()["result"] == "unchanged" and old.json()["version"] == 1
    assert plan_count(engine) == 2


def test_an_invalid_document_is_400_with_every_problem_located_and_nothing_stored(
    client, engine: Engine, tokens
) -> None:  # type: ignore[no-untyped-def]
    bad = EXAMPLE_PLAN.replace("rate: 15%", "rate: 150%").replace("product in [", "product inn [")
    response = client.put(PATH, json={"document": bad, "effective_from": "2026-01-01"}, headers=tokens["admin"])
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["detail"].startswith("invalid plan: ")
    errors = body["extra"]["errors"]
    by_component = {e["component"]: e for e in errors}
    assert by_component["Commission"]["field"] == "tiers[1].rate" and "150%" in by_component["Commission"]["message"]
    spiff = by_component["Multi-year SPIFF"]
    assert spiff["field"] == "when" and isinstance(spiff["position"], int) and spiff["position"] > 1
    assert plan_count(engine) == 0

    not_yaml = client.put(
        PATH, json={"document": "name: [unclosed", "effective_from": "2026-01-01"}, headers=tokens["admin"]
    )
    assert not_yaml.status_code == 400 and "not valid YAML" in not_yaml.json()["extra"]["errors"][0]["message"]
    assert plan_count(engine) == 0


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"document": EXAMPLE_PLAN.replace("AE 2026", "AE 2027"), "effective_from": "2026-01-01"}, 400, "name"),
        ({"document": EXAMPLE_PLAN, "effective_from": "2026-13-01"}, 400, "effective_from"),
        ({"document": EXAMPLE_PLAN, "effective": "2026-01-01"}, 400, "effective"),  # an unknown key
        ({"effective_from": "2026-01-01"}, 400, "document"),
    ],
)
def test_bad_requests_name_the_field(client, engine: Engine, tokens, body: dict, status: int, field: str) -> None:  # type: ignore[no-untyped-def]
    response = client.put(PATH, json=body, headers=tokens["admin"])
    assert response.status_code == status, response.text
    assert field in json.dumps(response.json()["extra"])
    assert plan_count(engine) == 0


def test_a_version_may_not_change_currency(client, engine: Engine, tokens) -> None:  # type: ignore[no-untyped-def]
    admin = tokens["admin"]
    client.put(PATH, json={"document": EXAMPLE_PLAN, "effective_from": "2026-01-01"}, headers=admin)
    euro = client.put(
        PATH, json={"document": EXAMPLE_PLAN.replace("USD", "EUR"), "effective_from": "2026-04-01"}, headers=admin
    )
    assert euro.status_code == 400 and euro.json()["extra"]["errors"][0]["field"] == "currency"
    assert versions(engine) == [(1, "2026-01-01")]


def test_a_different_document_on_the_same_day_is_a_new_version_that_takes_over(client, engine: Engine, tokens) -> None:  # type: ignore[no-untyped-def]
    """api.md: "a new version when the document differs", whatever its date: a mistake in the version in force
    for an open period is corrected from that same day, and the period is paid by the correction."""
    admin = tokens["admin"]
    flat = SIMPLE.replace("Flat", "AE 2026")
    assert client.put(PATH, json={"document": flat, "effective_from": "2026-01-01"}, headers=admin).status_code == 201
    client.put(f"{PATH}/assignments", json=[{"person": "ana@example.com", "from": "2026-01-01"}], headers=admin)
    store_quota(engine, "ana@example.com", 100_000)
    client.post("/api/v1/deals", json=example_deal("D-1", "60000", "2026-01-10"), headers=admin)
    drain(engine)
    statement = "/api/v1/statements/ana@example.com?period=2026-Q1"
    assert client.get(statement, headers=tokens["finance"]).json()["total"] == "6000.00"

    corrected = client.put(
        PATH, json={"document": flat.replace("10%", "12%"), "effective_from": "2026-01-01"}, headers=admin
    )
    assert corrected.status_code == 200, corrected.text  # 201 is for a new plan
    assert corrected.json() == {
        "plan": "AE 2026",
        "result": "new version",
        "changed": True,
        "version": 2,
        "effective_from": "2026-01-01",
    }
    again = client.put(
        PATH, json={"document": flat.replace("10%", "12%"), "effective_from": "2026-01-01"}, headers=admin
    )
    assert again.status_code == 200 and again.json()["result"] == "unchanged" and again.json()["version"] == 2
    assert versions(engine) == [(1, "2026-01-01"), (2, "2026-01-01")]

    drain(engine)
    assert client.get(statement, headers=tokens["finance"]).json()["total"] == "7200.00"
    assert check_period(engine, "2026-Q1").differences == []
    (listed,) = client.get("/api/v1/plans", headers=admin).json()["items"]
    assert (listed["version"], listed["effective_from"], listed["latest_version"]) == (2, "2026-01-01", 2)


@pytest.mark.parametrize(("role", "status"), [("finance", 403), ("manager", 403), ("rep", 403)])
def test_only_admins_read_and_write_plans(client, engine: Engine, tokens, role: str, status: int) -> None:  # type: ignore[no-untyped-def]
    client.put(
        PATH,
        json={"document": SIMPLE.replace("Flat", "AE 2026"), "effective_from": "2026-01-01"},
        headers=tokens["admin"],
    )
    put = client.put(PATH, json={"document": EXAMPLE_PLAN, "effective_from": "2026-04-01"}, headers=tokens[role])
    assert put.status_code == status
    assert client.get("/api/v1/plans", headers=tokens[role]).status_code == status
    assert client.get(PATH, headers=tokens[role]).status_code == status
    assert versions(engine) == [(1, "2026-01-01")]


def test_anonymous_callers_get_401(client, engine: Engine, tokens) -> None:  # type: ignore[no-untyped-def]
    assert client.put(PATH, json={"document": EXAMPLE_PLAN, "effective_from": "2026-01-01"}).status_code == 401
    assert client.get("/api/v1/plans").status_code == 401
    assert client.get(PATH).status_code == 401
    assert plan_count(engine) == 0


def test_the_list_pages_and_a_plan_shows_its_versions_as_written(client, engine: Engine, tokens) -> None:  # type: ignore[no-untyped-def]
    admin = tokens["admin"]
    for name in ("Alpha", "Beta", "Gamma"):
        doc = SIMPLE.replace("Flat", name)
        assert (
            client.put(
                f"/api/v1/plans/{name}", json={"document": doc, "effective_from": "2026-01-01"}, headers=admin
            ).status_code
            == 201
        )
    client.put(
        "/api/v1/plans/Beta",
        json={"document": SIMPLE.replace("Flat", "Beta").replace("10%", "12%"), "effective_from": "2027-01-01"},
        headers=admin,
    )
    client.put(
        "/api/v1/plans/Beta/assignments", json=[{"person": "ana@example.com", "from": "2026-01-01"}], headers=admin
    )

    first = client.get("/api/v1/plans?limit=2", headers=admin)
    assert first.status_code == 200, first.text
    cursor = first.json()["next_cursor"]
    assert first.headers["x-next-cursor"] == cursor
    assert first.headers["link"] == f'</api/v1/plans?limit=2&cursor={cursor}>; rel="next"'
    alpha, beta = first.json()["items"]
    assert beta == {
        "name": "Beta",
        "currency": "USD",
        "period": "quarter",
        "metric": "bookings",
        "version": 1,  # in force today (2026-12-04 in the suite); version 2 starts in 2027
        "effective_from": "2026-01-01",
        "latest_version": 2,
        "assignments": 1,
    }
    assert alpha["name"] == "Alpha" and alpha["assignments"] == 0
    rest = client.get(f"/api/v1/plans?limit=2&cursor={cursor}", headers=admin)
    assert [p["name"] for p in rest.json()["items"]] == ["Gamma"] and rest.json()["next_cursor"] is None
    assert client.get("/api/v1/plans?cursor=bogus", headers=admin).status_code == 400

    detail = client.get("/api/v1/plans/Beta", headers=admin)
    assert detail.status_code == 200, detail.text
    body = detail.json()
    assert [v["version"] for v in body["versions"]] == [1, 2]
    assert body["versions"][0]["document"] == SIMPLE.replace("Flat", "Beta")  # the text as written
    assert body["assignments"] == [{"person": "ana@example.com", "from": "2026-01-01", "to": None, "prorate": False}]
    assert client.get("/api/v1/plans/Nope", headers=admin).status_code == 404


def test_a_new_version_recomputes_the_open_periods_it_reaches(client, engine: Engine, tokens) -> None:  # type: ignore[no-untyped-def]
    admin = tokens["admin"]
    flat = SIMPLE.replace("Flat", "AE 2026")
    assert client.put(PATH, json={"document": flat, "effective_from": "2025-10-01"}, headers=admin).status_code == 201
    client.put(f"{PATH}/assignments", json=[{"person": "ana@example.com", "from": "2025-10-01"}], headers=admin)
    store_quota(engine, "ana@example.com", 100_000)
    assert (
        client.post("/api/v1/deals", json=example_deal("D-1", "60000", "2026-01-10"), headers=admin).status_code == 201
    )
    drain(engine)

    def commission() -> int:
        return read(
            engine,
            lambda s: s.exec(
                select(func.sum(PayoutLine.amount_minor))
                .join(Person, col(Person.id) == PayoutLine.person_id)
                .where(Person.email == "ana@example.com", PayoutLine.component == "Commission")
            ).one(),
        )

    assert commission() == 600_000  # 10% of 60,000.00
    new = client.put(PATH, json={"document": flat.replace("10%", "12%"), "effective_from": "2026-01-01"}, headers=admin)
    assert new.json()["result"] == "new version"
    assert not check_period(engine, "2026-Q1").ok  # queued, not yet recomputed
    drain(engine)
    assert commission() == 720_000
    assert check_period(engine, "2026-Q1").differences == []


def test_the_openapi_document_describes_every_route_with_examples(client) -> None:  # type: ignore[no-untyped-def]
    schema = client.get("/schema/openapi.json").json()
    paths = schema["paths"]
    expected = {
        "/api/v1/campaigns": {"get", "put"},
        "/api/v1/custom-fields": {"get", "post"},
        "/api/v1/plans": {"get"},
        "/api/v1/plans/{name}": {"get", "put"},
        "/api/v1/plans/{name}/assignments": {"put"},
    }
    for path, methods in expected.items():
        assert methods <= set(paths[path]), path
        for method in methods:
            assert paths[path][method].get("summary"), (path, method)
    for path, method in [
        ("/api/v1/campaigns", "put"),
        ("/api/v1/plans/{name}/assignments", "put"),
    ]:
        body = paths[path][method]["requestBody"]["content"]["application/json"]["schema"]
        assert body["type"] == "array" and body["examples"] and body["items"]["examples"], path
        assert body["items"]["additionalProperties"] is False
    plan_body = paths["/api/v1/plans/{name}"]["put"]["requestBody"]["content"]["application/json"]["schema"]
    assert [type(e["document"]) for e in plan_body["examples"]] == [str, dict]  # YAML text and a JSON object
    assert "effective_from" in plan_body["examples"][0]
    saved = schema["components"]["schemas"]["PlanSaved"]["properties"]
    assert saved["result"]["examples"] == ["new version"]
    assert schema["components"]["schemas"]["CampaignOut"]["properties"]["code"]["examples"] == ["WEB-SEO"]
    assert "Link" in paths["/api/v1/plans"]["get"]["responses"]["200"]["headers"]
