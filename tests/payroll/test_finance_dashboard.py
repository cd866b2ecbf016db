"""Finance's dashboard: exact totals by team, component and plan, open disputes, people with problems."""

from __future__ import annotations

import re

from sqlalchemy import Engine, update
from sqlmodel import Session, select

from commissions.core.db import transaction
from commissions.models import Period, Person, Team
from commissions.payroll.dashboard import period_dashboard
from tests.conftest import csrf_from, read, sign_in
from tests.payroll.test_payroll_export import add_line, worked_example


def test_figures_by_team_component_and_plan(client, engine: Engine, make_person) -> None:
    worked_example(client, engine, make_person)  # ana 13,750.00 earned + 250.00 − 500.00 + 1,000.00; bo nothing
    with transaction(engine) as s:
        team = Team(name="East")
        s.add(team)
        s.flush()
        s.execute(update(Person).where(Person.email == "ana@example.com").values(team_id=team.id))
    add_line(engine, "bo@example.com", "adjustment", 1_001)  # bo has no team: 10.01

    def board(s):  # type: ignore[no-untyped-def]
        return period_dashboard(s, s.exec(select(Period).where(Period.key == "2026-Q1")).one())

    figures = read(engine, board)
    assert [(t.label, t.amount_minor) for t in figures.by_team] == [("(no team)", 1_001), ("East", 1_450_000)]
    assert [(t.label, t.amount_minor) for t in figures.by_component] == [
        ("Adjustment", 26_001),
        ("Clawback", -50_000),
        ("Commission", 1_075_000),
        ("Draw", 100_000),
        ("Multi-year SPIFF", 50_000),
        ("Quota club", 250_000),
    ]
    assert [(t.label, t.amount_minor) for t in figures.by_plan] == [
        ("(no plan: adjustments)", 76_001),
        ("AE 2026", 1_375_000),
    ]
    assert [(t.currency, t.amount_minor) for t in figures.totals] == [("USD", 1_451_001)]
    assert figures.people_paid == 2

    sign_in(client, "fin@example.com")
    page = client.get("/finance?period=2026-Q1")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert "14,510.01 USD" in page.text and "13,750.00 USD" in page.text and "-500.00 USD" in page.text
    assert 'href="/api/v1/payouts/2026-Q1.csv"' in page.text and 'href="/api/v1/payouts/2026-Q1.xlsx"' in page.text
    assert '<span class="state state-open">open</span>' in page.text
    partial = client.get("/finance?period=2026-Q1", headers={"HX-Request": "true"})
    assert "<html" not in partial.text and partial.text.lstrip().startswith('<div id="finance-figures">')


def test_people_with_problems_and_open_disputes(client, engine: Engine, make_person) -> None:
    worked_example(client, engine, make_person)
    make_person("noplan@example.com")  # active rep without a plan
    make_person("gone@example.com")
    with transaction(engine) as s:
        s.execute(update(Person).where(Person.email == "gone@example.com").values(active=False))
    from tests.calc_fixtures import store_plan

    store_plan(engine, ["noplan@example.com"], name="Other plan")  # ... now on a plan, but without a quota
    make_person("drifter@example.com")
    sign_in(client, "ana@example.com")
    client.post(
        "/disputes",
        data={
            "email": "ana@example.com",
            "period": "2026-Q1",
            "question": "Where is my draw?",
            "_csrf_token": csrf_from(client),
        },
    )
    client.cookies.clear()
    sign_in(client, "fin@example.com")
    page = client.get("/finance?period=2026-Q1").text
    problems = page.split('id="problems"')[1].split("</section>")[0]
    assert "drifter@example.com" in problems and "no plan in this period" in problems
    assert re.search(r"noplan@example.com</small></td><td>no quota in this period", problems)
    assert "gone@example.com" not in problems and "ana@example.com" not in problems
    assert "fin@example.com" not in problems and "root@example.com" not in problems  # not payees
    assert "The statement as a whole" in page and "/disputes/" in page


def test_summary_errors_are_listed(client, engine: Engine, make_person) -> None:
    worked_example(client, engine, make_person)
    from commissions.models import PayeeSummary

    with transaction(engine) as s:
        s.execute(update(PayeeSummary).values(errors=["no bookings quota for 2026-Q1"]))
    sign_in(client, "fin@example.com")
    problems = client.get("/finance?period=2026-Q1").text.split('id="problems"')[1]
    assert "AE 2026: no bookings quota for 2026-Q1" in problems


def test_only_finance_opens_the_dashboard(client, engine: Engine, make_person) -> None:
    for role in ["rep", "manager", "admin"]:
        make_person(f"{role}@example.com", role)
        client.cookies.clear()
        sign_in(client, f"{role}@example.com")
        assert client.get("/finance").status_code == 403, role
    make_person("fin@example.com", "finance")
    client.cookies.clear()
    sign_in(client, "fin@example.com")
    assert client.get("/finance").status_code == 200  # no periods yet: still a page
    assert client.get("/finance?period=2026-Q9").status_code == 400
    assert client.get("/finance?period=2031-Q1").status_code == 404


def test_the_problems_list_costs_the_people_it_lists_not_every_payee(engine: Engine, make_person) -> None:
    """At 20,000 people the dashboard loaded every active payee and every summary to list the few with a
    problem; now the database picks them: forty payees on a plan with a quota load no person at all."""
    from sqlalchemy import event

    from commissions.core.periods import ensure_period
    from tests.calc_fixtures import store_plan, store_quota

    emails = [f"rep{i}@example.com" for i in range(40)]
    for email in emails:
        make_person(email)
    store_plan(engine, emails)
    for email in emails:
        store_quota(engine, email, 100_000)
    make_person("drifter@example.com")  # no plan: the one problem
    with transaction(engine) as s:
        ensure_period(s, "2026-Q1")
    loaded: list[str] = []

    def seen(target: Person, _context: object) -> None:
        loaded.append(target.email)

    event.listen(Person, "load", seen)
    try:
        with Session(engine) as s:
            period = s.exec(select(Period).where(Period.key == "2026-Q1")).one()
            from commissions.payroll.dashboard import people_with_problems

            problems = people_with_problems(s, period)
    finally:
        event.remove(Person, "load", seen)
    assert [(p.person.email, p.problems) for p in problems] == [("drifter@example.com", ["no plan in this period"])]
    assert loaded == ["drifter@example.com"]
