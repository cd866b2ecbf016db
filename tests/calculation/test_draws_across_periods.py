"""Recoverable draws across periods: the balance is carried forward and repaid from later earnings."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlmodel import select

from commissions.calculation.queue import drain
from commissions.models import PayeeSummary, Period
from tests.calc_fixtures import example_deal, store_plan
from tests.conftest import read, sign_in
from tests.deals.test_deals_api import token_for

DRAW_PLAN = """
name: Draw plan
currency: USD
period: quarter
quota: bookings
components:
  - name: Commission
    kind: per_deal
    rate: 10%
draw: {amount: 1000, recoverable: true}
"""


def setup(engine: Engine, make_person) -> tuple[dict, dict]:  # type: ignore[no-untyped-def]
    make_person("ana@example.com")
    make_person("fin@example.com", "finance")
    store_plan(engine, ["ana@example.com"], document=DRAW_PLAN, name="Draw plan")
    return token_for(engine, "admin"), token_for(engine, "finance", "fin@example.com")


def figures(client, fin, key: str) -> tuple[str, str | None, str | None]:  # type: ignore[no-untyped-def]
    st = client.get(f"/api/v1/statements/ana@example.com?period={key}", headers=fin).json()
    [plan] = st["plans"]
    return st["total"], plan["draw_balance_in"], plan["draw_balance_out"]


def test_earnings_500_700_400_against_a_recoverable_draw_of_1000(client, engine: Engine, make_person) -> None:
    crm, fin = setup(engine, make_person)
    for external_id, amount, day in [
        ("Q1", "5000", "2026-02-01"),
        ("Q2", "7000", "2026-05-01"),
        ("Q3", "4000", "2026-08-01"),
    ]:
        assert client.post("/api/v1/deals", json=example_deal(external_id, amount, day), headers=crm).status_code == 201
    assert figures(client, fin, "2026-Q1") == ("1000.00", "0.00", "500.00")
    assert figures(client, fin, "2026-Q2") == ("1000.00", "500.00", "800.00")
    assert figures(client, fin, "2026-Q3") == ("1000.00", "800.00", "1400.00")
    balances = read(
        engine,
        lambda s: s.exec(
            select(Period.key, PayeeSummary.draw_balance_minor)
            .join(Period, Period.id == PayeeSummary.period_id)
            .order_by(Period.key)
        ).all(),
    )
    assert balances == [("2026-Q1", 50_000), ("2026-Q2", 80_000), ("2026-Q3", 140_000)]
    sign_in(client, "fin@example.com")
    page = client.get("/statements/ana@example.com?period=2026-Q3").text
    assert "Draw balance: in 800.00 USD, out 1,400.00 USD" in page


def test_later_earnings_above_the_draw_repay_the_balance(client, engine: Engine, make_person) -> None:
    crm, fin = setup(engine, make_person)
    client.post("/api/v1/deals", json=example_deal("Q1", "5000", "2026-02-01"), headers=crm)  # balance 500
    client.post("/api/v1/deals", json=example_deal("Q2", "13000", "2026-05-01"), headers=crm)  # 1300: 300 repays
    assert figures(client, fin, "2026-Q2") == ("1000.00", "500.00", "200.00")


def test_recomputing_an_earlier_period_carries_the_new_balance_forward(client, engine: Engine, make_person) -> None:
    crm, fin = setup(engine, make_person)
    for external_id, amount, day in [
        ("Q1", "5000", "2026-02-01"),
        ("Q2", "7000", "2026-05-01"),
        ("Q3", "4000", "2026-08-01"),
    ]:
        client.post("/api/v1/deals", json=example_deal(external_id, amount, day), headers=crm)
    client.post(
        "/api/v1/deals", json=example_deal("Q1", "8000", "2026-02-01"), headers=crm
    )  # Q1 earns 800: balance 200
    assert figures(client, fin, "2026-Q1") == ("1000.00", "0.00", "200.00")
    drain(engine)  # the later open periods of the person were queued, one after the other
    assert figures(client, fin, "2026-Q2") == ("1000.00", "200.00", "500.00")
    assert figures(client, fin, "2026-Q3") == ("1000.00", "500.00", "1100.00")


def test_a_late_deal_in_a_locked_period_corrects_the_balance_carried_forward(
    client, engine: Engine, make_person
) -> None:
    from commissions.models import PayoutLine

    crm, fin = setup(engine, make_person)
    client.post("/api/v1/deals", json=example_deal("Q1", "5000", "2026-02-01"), headers=crm)  # Q1: balance 500
    client.post("/api/v1/deals", json=example_deal("Q2", "7000", "2026-05-01"), headers=crm)  # Q2: balance 800
    for step in ("approve", "lock"):
        assert client.post(f"/api/v1/periods/2026-Q1/{step}", headers=fin).status_code == 200
    client.post("/api/v1/deals", json=example_deal("L1", "3000", "2026-03-01"), headers=crm)
    # Q1 recomputed: earnings 800, the draw tops up 200: still 1000 paid, but the balance out is 200, not 500
    assert figures(client, fin, "2026-Q1") == ("1000.00", "0.00", "500.00")  # the locked period never changes
    [line] = read(engine, lambda s: s.exec(select(PayoutLine).where(PayoutLine.kind == "adjustment")).all())
    assert line.amount_minor == 0 and "draw balance out of 2026-Q1: 500.00 USD → 200.00 USD" in line.text
    assert figures(client, fin, "2026-Q2") == ("1000.00", "200.00", "500.00")
