"""GET /api/v1/estimate: the what-if for a CRM card, its figures and who may ask."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import Engine
from sqlmodel import Session, select

from commissions.models import Person
from commissions.statements.whatif import what_if
from tests.conftest import csrf_from, sign_in
from tests.deals.test_deals_api import token_for
from tests.statements.test_statements import setup

URL = "/api/v1/estimate?person=ana@example.com&amount=40000&period=2026-Q1"


def test_the_estimate_equals_the_what_if(client, engine: Engine, make_person) -> None:  # type: ignore[no-untyped-def]
    setup(client, engine, make_person)
    body = client.get(URL, headers=token_for(engine, "rep", "ana@example.com")).json()
    # the what-if box on the statements page, for the same deal
    sign_in(client, "ana@example.com")
    page = client.post(
        "/statements/what-if",
        data={"period": "2026-Q1", "amount": "40000", "_csrf_token": csrf_from(client)},
        headers={"HX-Request": "true"},
    )
    assert "+6,000.00 USD" in page.text
    assert body["amount"] == "6000.00" and body["currency"] == "USD" and body["period"] == "2026-Q1"
    assert body["person"] == "ana@example.com"
    with Session(engine) as s:
        ana = s.exec(select(Person).where(Person.email == "ana@example.com")).one()
        (answer,) = what_if(s, ana, "2026-Q1", Decimal(40000))
    assert Decimal(body["amount"]) == answer.extra
    assert Decimal(body["attainment_before"]) == answer.attainment_before
    assert Decimal(body["attainment_after"]) == answer.attainment_after
    assert sum(Decimal(line["amount"]) for line in body["lines"]) == answer.extra
    assert [(x["component"], x["amount"]) for x in body["lines"]] == [
        (x.component, str(x.amount)) for x in answer.lines
    ]
    assert any("WHAT-IF" in line["text"] for line in body["lines"])
    assert body["plans"][0]["tier"] == "tier 2 (100%-150% of quota) at 15%"


def test_deal_fields_reach_the_engine(client, engine: Engine, make_person) -> None:  # type: ignore[no-untyped-def]
    setup(client, engine, make_person)
    ana = token_for(engine, "rep", "ana@example.com")
    # the example plan pays a SPIFF on multi-year Enterprise deals (term_months >= 24)
    plain = client.get(URL + "&closed_at=2026-03-01", headers=ana).json()
    spiff = client.get(URL + "&closed_at=2026-03-01&product=Enterprise&term_months=36", headers=ana).json()
    assert Decimal(spiff["amount"]) > Decimal(plain["amount"])
    assert "Multi-year SPIFF" in [x["component"] for x in spiff["lines"]]
    with Session(engine) as s:
        person = s.exec(select(Person).where(Person.email == "ana@example.com")).one()
        (answer,) = what_if(
            s, person, "2026-Q1", Decimal(40000), product="Enterprise", term_months=36, closed_at=date(2026, 3, 1)
        )
    assert Decimal(spiff["amount"]) == answer.extra
    # closed_at alone picks its quarter
    assert (
        client.get(URL.replace("&period=2026-Q1", "") + "&closed_at=2026-02-10", headers=ana).json()["period"]
        == "2026-Q1"
    )


def test_who_may_ask(client, engine: Engine, make_person) -> None:  # type: ignore[no-untyped-def]
    setup(client, engine, make_person)
    expected = {
        ("rep", "ana@example.com"): 200,  # herself
        ("rep", "bo@example.com"): 404,  # a colleague of her team: as for statements, not known to exist
        ("manager", "mia@example.com"): 200,  # her manager
        ("manager", "vp@example.com"): 200,  # up the chain
        ("manager", "zoe@example.com"): 404,  # another team's manager
        ("finance", "fin@example.com"): 200,
        ("admin", "root@example.com"): 403,  # admins do not see pay
    }
    for (role, email), status in expected.items():
        r = client.get(URL, headers=token_for(engine, role, email))
        assert r.status_code == status, (role, email, r.text)
    assert client.get(URL).status_code == 401
    # without person: the caller's own estimate
    own = client.get(
        "/api/v1/estimate?amount=40000&period=2026-Q1", headers=token_for(engine, "rep", "ana@example.com")
    )
    assert own.status_code == 200 and own.json()["person"] == "ana@example.com"


def test_bad_input_names_the_field(client, engine: Engine, make_person) -> None:  # type: ignore[no-untyped-def]
    setup(client, engine, make_person)
    ana = token_for(engine, "rep", "ana@example.com")
    base = "/api/v1/estimate?person=ana@example.com&period=2026-Q1"
    cases = {
        "": "amount",
        "&amount=-5": "amount",
        "&amount=abc": "amount",
        "&amount=10&closed_at=yesterday": "closed_at",
        "&amount=10&closed_at=2026-05-01": "closed_at",  # outside 2026-Q1
        "&amount=10&type=upsell": "type",
        "&amount=10&term_months=x": "term_months",
        "&amount=10&currency=dollars": "currency",
        "&amount=10&region=EMEA": "region",  # no such custom field
    }
    for query, field in cases.items():
        r = client.get(base + query, headers=ana)
        assert r.status_code == 400, (query, r.text)
        assert field in r.text, (query, r.text)
    # finance on no plan, asking about themself: nothing to pay
    own = client.get("/api/v1/estimate?amount=10", headers=token_for(engine, "finance", "fin@example.com")).json()
    assert own["amount"] == "0" and own["plans"] == [] and own["lines"] == []
