"""Exchange rates in the recalculation (issue 19): a EUR deal on a USD plan is converted and its line says
so; a rate change queues exactly the statements it alters; a locked period gets a prior-period adjustment.

Worked by hand (plans: AE pays 10 % of each deal, Team pays its manager 1 % of the team's deals, both USD;
EU pays 10 % in EUR):
- D-1, ana, 10,000.00 EUR closed 2026-01-15 at EUR→USD 1.0850 from 2026-01-01: 10,850.00 USD,
  ana earns 1,085.00 USD, her manager mia 108.50 USD.
- The rate corrected to 1.1000: 11,000.00 USD, ana 1,100.00, mia 110.00.
- bo (EU plan, EUR deal) and cy (AE plan, USD deal) are not touched by a EUR→USD rate.
"""

from __future__ import annotations

import io
import zipfile
from datetime import date

import pytest
from sqlalchemy import Engine, exists
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from commissions.calculation.check import check_period
from commissions.calculation.queue import drain
from commissions.calculation.state import pending_in
from commissions.core.db import transaction
from commissions.models import Deal, PayoutLine, Period, Person, Plan, PlanAssignment, PlanVersion
from tests.conftest import read, sign_in
from tests.deals.test_deals_api import token_for

AE = "name: AE\ncurrency: USD\nperiod: quarter\ncomponents:\n  - {name: Commission, kind: per_deal, rate: 10%}\n"
TEAM = (
    "name: Team\ncurrency: USD\nperiod: quarter\ncredit:\n  scope: team\n"
    "components:\n  - {name: Team commission, kind: per_deal, rate: 1%}\n"
)
EU = "name: EU\ncurrency: EUR\nperiod: quarter\ncomponents:\n  - {name: Commission, kind: per_deal, rate: 10%}\n"


def add_plan(engine: Engine, name: str, currency: str, document: str, people: list[str]) -> None:
    with transaction(engine) as s:
        plan = Plan(name=name, currency=currency, period_kind="quarter")
        s.add(plan)
        s.flush()
        s.add(PlanVersion(plan_id=plan.id, version=1, effective_from=date(2025, 1, 1), document=document))
        for email in people:
            person = s.exec(select(Person).where(Person.email == email)).one()
            s.add(PlanAssignment(person_id=person.id, plan_id=plan.id, starts_on=date(2025, 1, 1)))


@pytest.fixture
def org(engine: Engine, make_person) -> dict[str, dict[str, str]]:  # type: ignore[no-untyped-def]
    make_person("mia@example.com", "manager")
    make_person("ana@example.com", manager="mia@example.com")
    make_person("cy@example.com")
    make_person("bo@example.com")
    add_plan(engine, "AE", "USD", AE, ["ana@example.com", "cy@example.com"])
    add_plan(engine, "Team", "USD", TEAM, ["mia@example.com"])
    add_plan(engine, "EU", "EUR", EU, ["bo@example.com"])
    return {"admin": token_for(engine, "admin"), "finance": token_for(engine, "finance")}


def deal(external_id: str, owner: str, amount: str, currency: str, closed_at: str) -> dict[str, str]:
    return {
        "external_id": external_id,
        "name": f"{external_id} deal",
        "owner": owner,
        "amount": amount,
        "currency": currency,
        "closed_at": closed_at,
        "type": "new",
    }


def rate(day: str, value: str) -> dict[str, str]:
    return {"from": "EUR", "to": "USD", "rate": value, "effective_from": day}


def ids(engine: Engine) -> dict[str, int]:
    return read(engine, lambda s: {p.email.split("@")[0]: p.id for p in s.exec(select(Person)).all()})


def pending(engine: Engine, key: str) -> set[int]:
    with Session(engine) as s:
        return set(pending_in(s, key))


def lines(engine: Engine, email: str, key: str) -> list[tuple[str, str, int]]:
    """(component, text, amount in cents) of a person's lines in force in a period (a recomputation reverses
    a changed line and adds its successor), in id order."""
    reversal = aliased(PayoutLine)
    return read(
        engine,
        lambda s: [
            (line.component, line.text, line.amount_minor)
            for line in s.exec(
                select(PayoutLine)
                .join(Person, col(Person.id) == PayoutLine.person_id)
                .join(Period, col(Period.id) == PayoutLine.period_id)
                .where(
                    Person.email == email,
                    Period.key == key,
                    PayoutLine.kind != "reversal",
                    ~exists().where(col(reversal.reverses_id) == PayoutLine.id),
                )
                .order_by(col(PayoutLine.id))
            ).all()
        ],
    )


def quiet(engine: Engine, key: str) -> None:
    drain(engine)
    result = check_period(engine, key)
    assert result.pending == 0 and result.differences == [], result.differences


def test_a_eur_deal_on_a_usd_plan_needs_a_rate_and_its_line_says_which(client, engine: Engine, org) -> None:
    refused = client.post(
        "/api/v1/deals", json=deal("D-1", "ana@example.com", "10000", "EUR", "2026-01-15"), headers=org["admin"]
    )
    assert refused.status_code == 400
    assert refused.json()["detail"] == (
        "no exchange rate from EUR to USD on or before 2026-01-15 (plan 'AE' of ana@example.com)"
    )
    # a rate from a later date does not help a deal closed before it
    client.put("/api/v1/rates", json=[rate("2026-02-01", "1.0900")], headers=org["finance"])
    assert (
        client.post(
            "/api/v1/deals", json=deal("D-1", "ana@example.com", "10000", "EUR", "2026-01-15"), headers=org["admin"]
        ).status_code
        == 400
    )
    client.put("/api/v1/rates", json=[rate("2026-01-01", "1.0850")], headers=org["finance"])
    accepted = client.post(
        "/api/v1/deals", json=deal("D-1", "ana@example.com", "10000", "EUR", "2026-01-15"), headers=org["admin"]
    )
    assert accepted.status_code == 201, accepted.text
    quiet(engine, "2026-Q1")
    [(component, text, amount)] = lines(engine, "ana@example.com", "2026-Q1")
    assert component == "Commission" and amount == 108500
    assert "10,000.00 EUR at 1.0850 = 10,850.00 USD" in text
    [(_, team_text, team_amount)] = lines(engine, "mia@example.com", "2026-Q1")
    assert team_amount == 10850 and "10,000.00 EUR at 1.0850 = 10,850.00 USD" in team_text
    # the statement API shows the same sentence
    statement = client.get("/api/v1/statements/ana@example.com?period=2026-Q1", headers=org["finance"])
    assert "10,000.00 EUR at 1.0850 = 10,850.00 USD" in statement.text
    # a rate the other way round (USD→GBP) is used inverted for a GBP deal
    client.put(
        "/api/v1/rates",
        json=[{"from": "USD", "to": "GBP", "rate": "0.8000", "effective_from": "2026-01-01"}],
        headers=org["finance"],
    )
    assert (
        client.post(
            "/api/v1/deals", json=deal("G-1", "ana@example.com", "800", "GBP", "2026-01-20"), headers=org["admin"]
        ).status_code
        == 201
    )
    quiet(engine, "2026-Q1")
    assert any(
        "800.00 GBP at 1/0.8000 (USD→GBP) = 1,000.00 USD" in t
        for _, t, _ in lines(engine, "ana@example.com", "2026-Q1")
    )
    # proof of pay: the download carries the rates that converted her deals, and reproduces offline
    proof = client.get("/api/v1/statements/ana@example.com?period=2026-Q1&proof=true", headers=org["finance"]).json()
    assert "rates.csv" in proof["inputs"]
    assert proof["reproducible"] is True, proof["offline_notes"]
    sign_in(client, "ana@example.com")
    # the statement page and the deal page show the line's sentence with its conversion
    page = client.get("/statements/ana@example.com?period=2026-Q1")
    assert page.status_code == 200 and "10,000.00 EUR at 1.0850 = 10,850.00 USD" in page.text
    d1 = read(engine, lambda s: s.exec(select(Deal).where(Deal.external_id == "D-1")).one().id)
    assert "10,000.00 EUR at 1.0850 = 10,850.00 USD" in client.get(f"/deals/{d1}").text
    download = client.get("/statements/ana@example.com/inputs.zip?period=2026-Q1")
    with zipfile.ZipFile(io.BytesIO(download.content)) as archive:
        assert archive.read("rates.csv").decode() == (
            "from,to,rate,effective_from\nEUR,USD,1.0850,2026-01-01\nUSD,GBP,0.8000,2026-01-01\n"
        )


def test_a_rate_change_queues_exactly_the_statements_it_alters(client, engine: Engine, org) -> None:
    client.put("/api/v1/rates", json=[rate("2026-01-01", "1.0850")], headers=org["finance"])
    for body in (
        deal("D-1", "ana@example.com", "10000", "EUR", "2026-01-15"),
        deal("B-1", "bo@example.com", "5000", "EUR", "2026-01-20"),
        deal("C-1", "cy@example.com", "7000", "USD", "2026-01-25"),
    ):
        assert client.post("/api/v1/deals", json=body, headers=org["admin"]).status_code == 201
    quiet(engine, "2026-Q1")
    who = ids(engine)

    # a rate from March: no EUR deal closed since, nothing to queue
    client.put("/api/v1/rates", json=[rate("2026-03-01", "1.2000")], headers=org["finance"])
    assert pending(engine, "2026-Q1") == set()
    # the same body again: unchanged, nothing queued
    client.put("/api/v1/rates", json=[rate("2026-01-01", "1.0850")], headers=org["finance"])
    assert pending(engine, "2026-Q1") == set()

    corrected = client.put("/api/v1/rates", json=[rate("2026-01-01", "1.1000")], headers=org["finance"])
    assert corrected.json()["updated"] == 1
    assert pending(engine, "2026-Q1") == {who["ana"], who["mia"]}  # not bo (paid in EUR), not cy (USD deals)
    quiet(engine, "2026-Q1")  # the stored ledger equals a fresh calculation
    [(_, text, amount)] = lines(engine, "ana@example.com", "2026-Q1")
    assert amount == 110000 and "10,000.00 EUR at 1.1000 = 11,000.00 USD" in text
    assert [a for _, _, a in lines(engine, "mia@example.com", "2026-Q1")] == [11000]


def test_a_locked_period_gets_a_prior_period_adjustment_never_a_recompute(client, engine: Engine, org) -> None:
    finance = org["finance"]
    client.put("/api/v1/rates", json=[rate("2025-10-01", "1.0500"), rate("2026-01-01", "1.0850")], headers=finance)
    assert (
        client.post(
            "/api/v1/deals", json=deal("Q4-1", "ana@example.com", "10000", "EUR", "2025-11-05"), headers=org["admin"]
        ).status_code
        == 201
    )
    assert (
        client.post(
            "/api/v1/deals", json=deal("D-1", "ana@example.com", "10000", "EUR", "2026-01-15"), headers=org["admin"]
        ).status_code
        == 201
    )
    quiet(engine, "2025-Q4")
    quiet(engine, "2026-Q1")
    assert [a for _, _, a in lines(engine, "ana@example.com", "2025-Q4")] == [105000]
    for step in ("approve", "lock"):
        assert client.post(f"/api/v1/periods/2025-Q4/{step}", headers=finance).status_code in (200, 201)
    before = lines(engine, "ana@example.com", "2025-Q4")

    client.put("/api/v1/rates", json=[rate("2025-10-01", "1.1000")], headers=finance)  # Q4's rate only
    assert pending(engine, "2025-Q4") == set()
    assert lines(engine, "ana@example.com", "2025-Q4") == before  # the locked period never changes
    # the difference, 10,000.00 EUR × (1.10 − 1.05) × 10 % = 50.00 USD (mia: 1 % = 5.00), is booked in Q1
    drain(engine)
    adjustments = [(t, a) for c, t, a in lines(engine, "ana@example.com", "2026-Q1") if c == "Prior-period adjustment"]
    assert len(adjustments) == 1 and adjustments[0][1] == 5000 and "2025-Q4" in adjustments[0][0]
    assert [a for c, _, a in lines(engine, "mia@example.com", "2026-Q1") if c == "Prior-period adjustment"] == [500]
    # Q1's own deal converts with Q1's rate, untouched by the change
    assert [a for c, _, a in lines(engine, "ana@example.com", "2026-Q1") if c == "Commission"] == [108500]
    assert read(engine, lambda s: s.exec(select(Deal).where(Deal.external_id == "Q4-1")).one().currency) == "EUR"
    quiet(engine, "2026-Q1")
