"""Shared set-up for calculation tests: the spec's worked example as stored rows."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import select

from commissions.core.db import transaction
from commissions.core.periods import ensure_period
from commissions.models import Person, Plan, PlanAssignment, PlanVersion, Quota

EXAMPLE_PLAN = (Path(__file__).parent / "engine" / "data" / "plan.yaml").read_text()


def store_plan(
    engine: Engine,
    emails: list[str],
    *,
    document: str = EXAMPLE_PLAN,
    name: str = "AE 2026",
    starts_on: date = date(2026, 1, 1),
    prorate: bool = False,
) -> None:
    with transaction(engine) as s:
        plan = Plan(name=name, currency="USD", period_kind="quarter")
        s.add(plan)
        s.flush()
        s.add(PlanVersion(plan_id=plan.id, version=1, document=document, effective_from=date(2026, 1, 1)))
        for email in emails:
            person = s.exec(select(Person).where(Person.email == email)).one()
            s.add(PlanAssignment(person_id=person.id, plan_id=plan.id, starts_on=starts_on, prorate=prorate))


def store_quota(engine: Engine, email: str, target: int, *, metric: str = "bookings", period: str = "2026-Q1") -> None:
    with transaction(engine) as s:
        person = s.exec(select(Person).where(Person.email == email)).one()
        row = ensure_period(s, period)
        s.add(Quota(person_id=person.id, metric=metric, period_id=row.id, target_minor=target * 100))


def example_deal(external_id: str, amount: str, closed_at: str, *, owner: str = "ana@example.com", **extra) -> dict:
    body = {
        "external_id": external_id,
        "name": f"{external_id} deal",
        "owner": owner,
        "amount": amount,
        "currency": "USD",
        "closed_at": closed_at,
        "type": "new",
        "product": "Pro",
        "term_months": 12,
    }
    body.update(extra)
    return body
