"""Deals recompute exactly the statements they touch; stored lines match the engine to the cent."""

from __future__ import annotations

from sqlalchemy import Engine, func
from sqlmodel import select

from commissions.calculation.ledger import current_lines_query
from commissions.calculation.service import recalc_period
from commissions.models import CalculationRun, PayeeSummary, PayoutLine, Person
from tests.calc_fixtures import example_deal, store_plan, store_quota
from tests.conftest import read
from tests.deals.test_deals_api import token_for


def person_id(engine: Engine, email: str) -> int:
    return read(engine, lambda s: s.exec(select(Person.id).where(Person.email == email)).one())


def current_total(engine: Engine, email: str) -> int:
    pid = person_id(engine, email)
    lines = read(engine, lambda s: s.exec(current_lines_query(pid, _period_id(s))).all())
    return sum(line.amount_minor for line in lines)


def _period_id(s) -> int:  # type: ignore[no-untyped-def]
    from commissions.models import Period

    return s.exec(select(Period.id).where(Period.key == "2026-Q1")).one()


def ledger_sum(engine: Engine, email: str) -> int:
    pid = person_id(engine, email)
    return read(
        engine,
        lambda s: s.exec(
            select(func.coalesce(func.sum(PayoutLine.amount_minor), 0)).where(PayoutLine.person_id == pid)
        ).one(),
    )


def setup_example(client, engine: Engine, make_person) -> dict[str, str]:  # type: ignore[no-untyped-def]
    make_person("mia@example.com", "manager")
    make_person("ana@example.com", manager="mia@example.com")
    make_person("bo@example.com", manager="mia@example.com")
    store_plan(engine, ["ana@example.com", "bo@example.com"])
    store_quota(engine, "ana@example.com", 100_000)
    store_quota(engine, "bo@example.com", 100_000)
    return token_for(engine, "admin")


def test_worked_example_through_the_api(client, engine: Engine, make_person) -> None:
    crm = setup_example(client, engine, make_person)
    client.post("/api/v1/deals", json=example_deal("D-1", "60000", "2026-01-10"), headers=crm)
    client.post(
        "/api/v1/deals",
        json=example_deal("D-2", "45000", "2026-02-03", product="Enterprise", term_months=36),
        headers=crm,
    )
    client.post("/api/v1/deals", json=example_deal("D-3", "25000", "2026-03-20", type="renewal"), headers=crm)
    assert current_total(engine, "ana@example.com") == 1_375_000
    assert ledger_sum(engine, "ana@example.com") == 1_375_000
    summary = read(
        engine,
        lambda s: s.exec(
            select(PayeeSummary).where(PayeeSummary.person_id == person_id(engine, "ana@example.com"))
        ).one(),
    )
    assert (summary.credited_minor, summary.quota_minor, summary.attainment_ppm, summary.total_minor) == (
        10_500_000,
        10_000_000,
        1_050_000,
        1_375_000,
    )


def test_a_deal_change_touches_only_its_people(client, engine: Engine, make_person) -> None:
    crm = setup_example(client, engine, make_person)
    client.post("/api/v1/deals", json=example_deal("B-1", "30000", "2026-01-15", owner="bo@example.com"), headers=crm)
    bo_lines = read(
        engine,
        lambda s: s.exec(
            select(func.count())
            .select_from(PayoutLine)
            .where(PayoutLine.person_id == person_id(engine, "bo@example.com"))
        ).one(),
    )
    assert current_total(engine, "bo@example.com") == 300_000

    client.post("/api/v1/deals", json=example_deal("D-1", "60000", "2026-01-10"), headers=crm)
    client.post("/api/v1/deals", json=example_deal("D-1", "120000", "2026-01-10"), headers=crm)
    # ana: 100000 x 10% + 20000 x 15% = 13000 + quota club 2500
    assert current_total(engine, "ana@example.com") == 1_550_000
    assert ledger_sum(engine, "ana@example.com") == 1_550_000
    after = read(
        engine,
        lambda s: s.exec(
            select(func.count())
            .select_from(PayoutLine)
            .where(PayoutLine.person_id == person_id(engine, "bo@example.com"))
        ).one(),
    )
    assert after == bo_lines, "bo's statement was not touched by ana's deals"

    client.post(
        "/api/v1/deals",
        json=example_deal("D-1", "120000", "2026-01-10", status="cancelled", cancelled_at="2026-02-01"),
        headers=crm,
    )
    assert current_total(engine, "ana@example.com") == 0
    assert ledger_sum(engine, "ana@example.com") == 0


def test_same_delivery_again_recomputes_nothing(client, engine: Engine, make_person) -> None:
    crm = setup_example(client, engine, make_person)
    client.post("/api/v1/deals", json=example_deal("D-1", "60000", "2026-01-10"), headers=crm)
    runs = read(engine, lambda s: s.exec(select(func.count()).select_from(CalculationRun)).one())
    client.post("/api/v1/deals", json=example_deal("D-1", "60000", "2026-01-10"), headers=crm)
    assert read(engine, lambda s: s.exec(select(func.count()).select_from(CalculationRun)).one()) == runs


def test_recalc_period_is_idempotent(client, engine: Engine, make_person) -> None:
    crm = setup_example(client, engine, make_person)
    client.post("/api/v1/deals", json=example_deal("D-1", "60000", "2026-01-10"), headers=crm)
    first = recalc_period(engine, "2026-Q1")
    assert first.computed == 2 and first.people <= {person_id(engine, "bo@example.com")}  # bo had no deal yet
    lines = read(engine, lambda s: s.exec(select(func.count()).select_from(PayoutLine)).one())
    again = recalc_period(engine, "2026-Q1")
    assert again.computed == 2 and again.people == set()
    assert read(engine, lambda s: s.exec(select(func.count()).select_from(PayoutLine)).one()) == lines


def test_person_without_quota_gets_an_error_not_zero(client, engine: Engine, make_person) -> None:
    make_person("cy@example.com")
    store_plan(engine, ["cy@example.com"])
    crm = token_for(engine, "admin")
    client.post("/api/v1/deals", json=example_deal("C-1", "1000", "2026-01-10", owner="cy@example.com"), headers=crm)
    summary = read(engine, lambda s: s.exec(select(PayeeSummary)).one())
    assert summary.total_minor is None
    assert summary.errors == ["no bookings quota for cy@example.com in 2026-Q1"]


MANAGER_PLAN = """\
name: Managers
currency: USD
period: quarter
quota: bookings
credit: {scope: team}
components:
  - {name: Override, kind: override, rate: 1%}
"""


def test_managers_are_queued_and_the_worker_drain_brings_them_up_to_date(client, engine: Engine, make_person) -> None:
    from commissions.calculation.queue import drain
    from commissions.calculation.state import pending_count as pending

    crm = setup_example(client, engine, make_person)
    store_plan(engine, ["mia@example.com"], document=MANAGER_PLAN, name="Managers")
    store_quota(engine, "mia@example.com", 200_000)
    client.post("/api/v1/deals", json=example_deal("D-1", "60000", "2026-01-10"), headers=crm)
    assert current_total(engine, "ana@example.com") == 600_000, "the owner's statement is current at once"
    assert read(engine, pending) == 1, "the manager waits in the queue"
    assert current_total(engine, "mia@example.com") == 0

    reports = drain(engine)
    assert [r.people for r in reports] == [{person_id(engine, "mia@example.com")}]
    assert current_total(engine, "mia@example.com") == 60_000  # 1% of 60000
    assert read(engine, pending) == 0

    client.post("/api/v1/deals", json=example_deal("B-1", "40000", "2026-01-12", owner="bo@example.com"), headers=crm)
    client.post("/api/v1/deals", json=example_deal("D-1", "80000", "2026-01-10"), headers=crm)
    assert read(engine, pending) == 1, "requests for one person and period coalesce"
    drain(engine)
    assert current_total(engine, "mia@example.com") == 120_000
    assert ledger_sum(engine, "mia@example.com") == 120_000


def test_a_failed_drain_puts_the_requests_back(client, engine: Engine, make_person, monkeypatch) -> None:
    import pytest

    from commissions.calculation import queue
    from commissions.calculation.state import pending_count

    crm = setup_example(client, engine, make_person)
    store_plan(engine, ["mia@example.com"], document=MANAGER_PLAN, name="Managers")
    client.post("/api/v1/deals", json=example_deal("D-1", "60000", "2026-01-10"), headers=crm)
    assert read(engine, pending_count) == 1

    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("engine crashed")

    monkeypatch.setattr(queue, "compute", broken)
    with pytest.raises(RuntimeError):
        queue.drain(engine)
    assert read(engine, pending_count) == 1


def test_plan_assignment_and_quota_changes_queue_the_statements_they_change(
    client, engine: Engine, make_person
) -> None:
    from datetime import date

    from commissions.calculation.queue import drain
    from commissions.calculation.state import pending_count as pending
    from commissions.core.db import transaction
    from commissions.core.periods import quarter_of
    from commissions.models import Plan
    from commissions.plans.service import assign
    from commissions.quotas.service import apply_change
    from commissions.quotas.targets import Change

    quarter = quarter_of(date.today())
    make_person("ana@example.com")
    store_plan(engine, [])  # the plan exists, nobody is on it yet
    store_quota(engine, "ana@example.com", 100_000, period=quarter.key)
    crm = token_for(engine, "admin")
    client.post("/api/v1/deals", json=example_deal("D-1", "60000", quarter.starts_on.isoformat()), headers=crm)
    assert read(engine, lambda s: s.exec(select(func.count()).select_from(PayeeSummary)).one()) == 0

    with transaction(engine) as s:
        plan = s.exec(select(Plan)).one()
        person = s.exec(select(Person).where(Person.email == "ana@example.com")).one()
        assign(s, plan=plan, person=person, starts_on=quarter.starts_on, by=None)
    assert read(engine, pending) >= 1
    drain(engine)
    summary = read(engine, lambda s: s.exec(select(PayeeSummary)).one())
    assert summary.total_minor == 600_000 and summary.attainment_ppm == 600_000

    with transaction(engine) as s:
        apply_change(
            s,
            Change(
                person_id=person.id, email=person.email, metric="bookings", period=quarter, target_minor=50_000 * 100
            ),
            by=None,
        )
    drain(engine)
    summary = read(engine, lambda s: s.exec(select(PayeeSummary)).one())
    assert summary.attainment_ppm == 1_200_000  # 60000 of 50000
    assert summary.total_minor == 50_000 * 10 + 10_000 * 15 + 250_000  # 10% to 100%, 15% above, quota club


def test_every_recorded_deal_is_announced_and_repeats_are_not(client, engine: Engine, make_person, monkeypatch) -> None:
    """The leaderboard listens on the channels: a deal by someone without a manager is announced too."""
    from commissions.deals import events

    published: list[tuple[str, dict]] = []
    monkeypatch.setattr(events, "publish", lambda app, channel, event: published.append((channel, event)))
    make_person("solo@example.com")
    store_plan(engine, ["solo@example.com"])
    store_quota(engine, "solo@example.com", 100_000)
    crm = token_for(engine, "admin")
    client.post("/api/v1/deals", json=example_deal("S-1", "10000", "2026-01-10", owner="solo@example.com"), headers=crm)
    assert ("deals", "deal.created") in [(channel, event["event"]) for channel, event in published]
    assert ("payouts", "payouts.recomputed") in [(channel, event["event"]) for channel, event in published]
    published.clear()
    client.post("/api/v1/deals", json=example_deal("S-1", "10000", "2026-01-10", owner="solo@example.com"), headers=crm)
    assert published == []
