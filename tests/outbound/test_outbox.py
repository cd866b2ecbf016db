"""The durable outbox: an event is written in the transaction of its change, and only when someone wants it."""

from __future__ import annotations

from sqlalchemy import Engine, func
from sqlmodel import Session, select

from commissions.core import outbox
from commissions.core.db import transaction
from commissions.models import Deal, OutboxEvent
from commissions.outbound.dispatcher import fan_out
from commissions.outbound.service import deactivate
from tests.deals.test_deals_api import BODY, token_for
from tests.finance_fixtures import example_deal, setup_books
from tests.outbound.conftest import ADMIN, deliveries, events, subscribe


def outbox_rows(engine: Engine) -> int:
    with Session(engine) as s:
        return s.exec(select(func.count()).select_from(OutboxEvent)).one()


def test_a_recorded_deal_gives_one_event_and_one_delivery(client, engine: Engine, make_person) -> None:  # type: ignore[no-untyped-def]
    make_person("ana@example.com")
    crm = token_for(engine, "admin")
    sub_id, _ = subscribe(engine, "https://hooks.example.com/a", ["deal.recorded"])
    subscribe(engine, "https://hooks.example.com/b", ["period.locked"])  # wants something else
    assert client.post("/api/v1/deals", json=BODY, headers=crm).status_code == 201
    [event] = events(engine)
    assert event.type == "deal.recorded" and event.event_id.startswith("evt_")
    assert event.data["external_id"] == "SF-0001" and event.data["amount"] == "45000.00"
    assert event.data["owner"] == "ana@example.com" and event.data["outcome"] == "created"
    assert event.pay is None
    assert fan_out(engine) == 1
    [delivery] = deliveries(engine)
    assert delivery.subscription_id == sub_id and delivery.status == "pending"
    assert fan_out(engine) == 0  # an event is fanned out once
    assert client.post("/api/v1/deals", json=BODY, headers=crm).status_code == 200  # unchanged: nothing happened
    assert len(events(engine)) == 1


def test_a_refused_deal_writes_no_event(client, engine: Engine, make_person) -> None:  # type: ignore[no-untyped-def]
    make_person("ana@example.com")
    crm = token_for(engine, "admin")
    subscribe(engine, "https://hooks.example.com/a", ["deal.recorded"])
    refused = client.post("/api/v1/deals", json={**BODY, "owner": "nobody@example.com"}, headers=crm)
    assert refused.status_code == 400
    assert outbox_rows(engine) == 0


def test_a_rolled_back_transaction_takes_its_event_with_it(engine: Engine, make_person) -> None:  # type: ignore[no-untyped-def]
    subscribe(engine, "https://hooks.example.com/a", ["deal.recorded"])
    try:
        with transaction(engine) as s:
            assert outbox.record_event(s, "deal.recorded", {"external_id": "X"})
            raise RuntimeError("the change fails after the event was written")
    except RuntimeError:
        pass
    assert outbox_rows(engine) == 0
    with transaction(engine) as s:
        assert outbox.record_event(s, "deal.recorded", {"external_id": "Y"})
    assert [e.data["external_id"] for e in events(engine)] == ["Y"]


def test_without_a_subscription_nothing_is_written(client, engine: Engine, make_person) -> None:  # type: ignore[no-untyped-def]
    make_person("ana@example.com")
    crm = token_for(engine, "admin")
    assert client.post("/api/v1/deals", json=BODY, headers=crm).status_code == 201
    assert outbox_rows(engine) == 0
    sub_id, _ = subscribe(engine, "https://hooks.example.com/a", ["deal.recorded"])
    assert client.post("/api/v1/deals", json={**BODY, "external_id": "SF-2"}, headers=crm).status_code == 201
    assert outbox_rows(engine) == 1  # the cache of wanted types saw the new subscription at once
    deactivate(engine, sub_id, by=ADMIN)
    assert client.post("/api/v1/deals", json={**BODY, "external_id": "SF-3"}, headers=crm).status_code == 201
    assert outbox_rows(engine) == 1  # and its deactivation
    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(Deal)).one() == 3


def test_a_deal_import_writes_its_events_together(client, engine: Engine, make_person) -> None:  # type: ignore[no-untyped-def]
    make_person("ana@example.com")
    crm = token_for(engine, "admin")
    subscribe(engine, "https://hooks.example.com/a", ["deal.recorded"])
    csv = "external_id,owner,amount,currency,closed_at\nI-1,ana@example.com,100,USD,2026-02-01\nI-2,ana@example.com,200,USD,2026-02-02\n"
    response = client.post("/api/v1/deals/import", files={"file": ("deals.csv", csv.encode(), "text/csv")}, headers=crm)
    assert response.status_code in (200, 201), response.text
    assert sorted(e.data["external_id"] for e in events(engine, "deal.recorded")) == ["I-1", "I-2"]


def test_period_steps_disputes_and_statements_announce_themselves(client, engine: Engine, make_person) -> None:  # type: ignore[no-untyped-def]
    tokens = setup_books(engine, make_person)
    subscribe(
        engine,
        "https://hooks.example.com/a",
        ["statement.changed", "period.approved", "period.locked", "period.paid", "dispute.opened", "dispute.answered"],
    )
    deal = client.post("/api/v1/deals", json=example_deal("D-1", "50000", "2026-02-10"), headers=tokens["crm"])
    assert deal.status_code == 201
    [changed] = [e for e in events(engine, "statement.changed") if e.data["person"] == "ana@example.com"]
    assert changed.data["period"] == "2026-Q1" and "total" not in changed.data
    assert changed.pay is not None and changed.pay["currency"] == "USD" and changed.pay["total"] is not None

    from commissions.core.principal import Principal
    from commissions.disputes.service import add_message, open_dispute
    from commissions.models import Person

    with transaction(engine) as s:
        ana = s.exec(select(Person).where(Person.email == "ana@example.com")).one()
        fin = s.exec(select(Person).where(Person.email == "fin@example.com")).one()
        dispute = open_dispute(
            s,
            principal=Principal(role="rep", person_id=ana.id, email=ana.email, name=ana.name),
            person=ana,
            period_key="2026-Q1",
            line_id=None,
            question="Is my deal in?",
        )
        add_message(
            s,
            principal=Principal(role="finance", person_id=fin.id, email=fin.email, name=fin.name),
            dispute=dispute,
            body="Yes",
        )
    [opened] = events(engine, "dispute.opened")
    assert opened.data["person"] == "ana@example.com" and "Is my deal in?" not in str(opened.data)
    assert events(engine, "dispute.answered")[0].data["dispute"] == opened.data["dispute"]

    reason = {"override_reason": "answered; no change to pay"}  # the answered dispute is still open (checklist)
    for step in ("approve", "lock", "pay"):
        params = reason if step == "lock" else {}
        response = client.post(f"/api/v1/periods/2026-Q1/{step}", params=params, headers=tokens["finance"])
        assert response.status_code == 200, response.text
    steps = [e for e in events(engine) if e.type.startswith("period.")]
    assert [e.type for e in steps] == ["period.approved", "period.locked", "period.paid"]
    assert all(e.data["period"] == "2026-Q1" and "grand_totals" not in e.data for e in steps)
    assert all("USD" in (e.pay or {})["grand_totals"] for e in steps)


def test_no_subscription_costs_no_query(client, engine: Engine, make_person) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import event

    make_person("ana@example.com")
    crm = token_for(engine, "admin")
    assert client.post("/api/v1/deals", json=BODY, headers=crm).status_code == 201  # warm: the version row is back
    seen: list[str] = []

    def count(_conn: object, _cursor: object, text: str, *_: object) -> None:
        seen.append(text)

    event.listen(engine, "before_cursor_execute", count)
    try:
        assert client.post("/api/v1/deals", json={**BODY, "external_id": "SF-2"}, headers=crm).status_code == 201
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert seen and not [t for t in seen if "subscription" in t or "outbox_event" in t]
