"""Statements: who may read them, lines that add up to the total, the what-if box that saves nothing."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import Engine, text

from commissions.models.base import metadata
from tests.calc_fixtures import example_deal, store_plan, store_quota
from tests.conftest import csrf_from, sign_in
from tests.deals.test_deals_api import token_for


def setup(client, engine: Engine, make_person) -> None:  # type: ignore[no-untyped-def]
    make_person("vp@example.com", "manager")
    make_person("mia@example.com", "manager", manager="vp@example.com")
    make_person("ana@example.com", manager="mia@example.com")
    make_person("bo@example.com", manager="mia@example.com")
    make_person("zoe@example.com", "manager")
    make_person("fin@example.com", "finance")
    make_person("root@example.com", "admin")
    store_plan(engine, ["ana@example.com", "bo@example.com"])
    store_quota(engine, "ana@example.com", 100_000)
    store_quota(engine, "bo@example.com", 100_000)
    crm = token_for(engine, "admin")
    client.post("/api/v1/deals", json=example_deal("D-1", "60000", "2026-01-10"), headers=crm)
    client.post(
        "/api/v1/deals",
        json=example_deal("D-2", "45000", "2026-02-03", product="Enterprise", term_months=36),
        headers=crm,
    )
    client.post("/api/v1/deals", json=example_deal("D-3", "25000", "2026-03-20", type="renewal"), headers=crm)


def test_statement_api_matches_the_worked_example_and_lines_sum_to_total(client, engine: Engine, make_person) -> None:
    setup(client, engine, make_person)
    body = client.get(
        "/api/v1/statements/ana@example.com?period=2026-Q1", headers=token_for(engine, "rep", "ana@example.com")
    ).json()
    assert body["total"] == "13750.00"
    assert [(c["name"], c["amount"]) for c in body["components"]] == [
        ("Commission", "10750.00"),
        ("Multi-year SPIFF", "500.00"),
        ("Quota club", "2500.00"),
    ]
    assert body["plans"][0]["attainment"] == "1.0500" and body["plans"][0]["credited"] == "105000.00"
    lines = [Decimal(line["amount"]) for c in body["components"] for line in c["lines"]]
    assert sum(lines) == Decimal(body["total"])
    for c in body["components"]:
        assert sum(Decimal(line["amount"]) for line in c["lines"]) == Decimal(c["amount"])
    assert "D-2 D-2 deal: 40000.00 at 10% (tier 1) + 5000.00 at 15% (tier 2, 100%-150%) = 4750.00" in [
        line["text"] for c in body["components"] for line in c["lines"]
    ]


def test_who_may_read_a_statement(client, engine: Engine, make_person) -> None:
    setup(client, engine, make_person)
    url = "/api/v1/statements/ana@example.com?period=2026-Q1"
    expected = {
        ("rep", "ana@example.com"): 200,  # self
        ("manager", "mia@example.com"): 200,  # direct manager
        ("manager", "vp@example.com"): 200,  # manager chain
        ("finance", "fin@example.com"): 200,
        ("rep", "bo@example.com"): 404,  # a colleague
        ("manager", "zoe@example.com"): 404,  # another team's manager
        ("admin", "root@example.com"): 403,  # admins run the system, they do not read pay
    }
    for (role, email), status in expected.items():
        assert client.get(url, headers=token_for(engine, role, email)).status_code == status, (role, email)
    assert (
        client.get(
            "/api/v1/statements/nobody@example.com?period=2026-Q1",
            headers=token_for(engine, "finance", "fin@example.com"),
        ).status_code
        == 404
    )


def test_statement_page_with_component_filter_and_what_if(client, engine: Engine, make_person) -> None:
    setup(client, engine, make_person)
    sign_in(client, "ana@example.com")
    page = client.get("/statements/ana@example.com?period=2026-Q1")
    assert page.status_code == 200
    assert "Total 13,750.00 USD" in page.text and ">105.0%</span> of quota" in page.text  # one decimal, half-up
    partial = client.get(
        "/statements/ana@example.com?period=2026-Q1&component=Quota+club", headers={"HX-Request": "true"}
    )
    assert "<html" not in partial.text and "bonus 2,500.00" in partial.text and "Multi-year" not in partial.text

    def snapshot() -> dict[str, list]:
        with engine.connect() as conn:
            return {
                t.name: sorted(map(repr, conn.execute(text(f'SELECT * FROM "{t.name}"')).all()))
                for t in metadata.sorted_tables
            }

    before = snapshot()
    answer = client.post(
        "/statements/what-if",
        data={"period": "2026-Q1", "amount": "40000", "_csrf_token": csrf_from(client)},
        headers={"HX-Request": "true"},
    )
    assert answer.status_code == 200
    # 145% attainment: 40000 more at 15% = 6000.00
    assert "+6,000.00 USD" in answer.text
    assert "tier 2 (100%-150% of quota) at 15%" in answer.text
    assert "another 5,000.00 of bookings after it takes you to tier 3 (over 150% of quota) at 20%" in answer.text
    assert snapshot() == before, "the what-if wrote to the database"
    bad = client.post(
        "/statements/what-if", data={"period": "2026-Q1", "amount": "-3", "_csrf_token": csrf_from(client)}
    )
    assert "positive number" in bad.text


def test_manager_sees_team_statements_but_not_others(client, engine: Engine, make_person) -> None:
    setup(client, engine, make_person)
    from commissions.calculation.service import recalc_period

    recalc_period(engine, "2026-Q1")  # bo has no deal: only a full recompute gives him a (zero) statement
    sign_in(client, "mia@example.com")
    index = client.get("/statements?period=2026-Q1")
    assert "ana@example.com" in index.text and "bo@example.com" in index.text
    assert client.get("/statements/ana@example.com?period=2026-Q1").status_code == 200
    client.cookies.clear()
    sign_in(client, "zoe@example.com")
    assert client.get("/statements/ana@example.com?period=2026-Q1").status_code == 404
    assert "ana@example.com" not in client.get("/statements?period=2026-Q1").text


def test_leaderboard_tells_the_viewer_the_distance_to_their_next_tier(client, engine: Engine, make_person) -> None:

    from sqlmodel import Session, select

    from commissions.models import Person
    from commissions.statements.whatif import next_tier_hints

    setup(client, engine, make_person)
    with Session(engine) as s:
        ana = s.exec(select(Person).where(Person.email == "ana@example.com")).one()
        bo = s.exec(select(Person).where(Person.email == "bo@example.com")).one()
        # 105000 credited of 100000: tier 2 up to 150 %, so 45000 more reaches 20 %
        assert next_tier_hints(s, ana, "2026-Q1") == [
            "Next 45,000.00 of bookings takes you to the 20% tier of AE 2026."
        ]
        assert next_tier_hints(s, bo, "2026-Q1") == [
            "Next 100,000.00 of bookings takes you to the 15% tier of AE 2026."
        ]
    sign_in(client, "ana@example.com")
    page = client.get("/leaderboard?period=2026-Q1").text
    assert "Next 45,000.00 of bookings takes you to the 20% tier" in page
    assert "Next 100,000.00" not in page, "nobody sees someone else's hint"


def test_what_if_is_offered_to_people_whose_own_deals_move_their_plan_only(client, engine, make_person) -> None:  # type: ignore[no-untyped-def]
    from tests.leaderboard.test_leaderboard import _summaries

    _summaries(
        engine,
        make_person,
        {
            "ana@example.com": ("East", "sales", "rep", "bookings", 12_000_000, 10_000_000, 1_200_000),
            "mo@example.com": ("Growth", "marketing", "rep", "sourced_revenue", 5_000_000, 4_000_000, 1_250_000),
        },
    )
    for email, offered in (("ana@example.com", True), ("mo@example.com", False)):
        client.cookies.clear()
        sign_in(client, email)
        page = client.get(f"/statements/{email}?period=2026-Q1")
        assert page.status_code == 200
        assert ("What if…" in page.text) is offered, email


def test_a_statement_of_a_period_not_begun_is_never_where_one_lands_by_default(
    client, engine: Engine, make_person
) -> None:  # type: ignore[no-untyped-def]
    """A deal dated ahead (a typo, a renewal booked for next year) makes a statement of a future period; the
    default is the latest statement of a period that has begun."""
    from datetime import date

    from commissions.core.db import read_session
    from commissions.people.queries import person_by_email
    from commissions.statements.queries import period_key

    make_person("ana@example.com")
    store_plan(engine, ["ana@example.com"])
    store_quota(engine, "ana@example.com", 100_000)
    store_quota(engine, "ana@example.com", 100_000, period="2027-Q1")
    crm = token_for(engine, "admin")
    for external_id, day in (("D-1", "2026-02-03"), ("D-2", "2027-02-03")):
        assert client.post("/api/v1/deals", json=example_deal(external_id, "1000", day), headers=crm).status_code == 201
    with read_session(engine) as session:
        ana = person_by_email(session, "ana@example.com")
        assert period_key(session, ana, None, today=date(2026, 12, 7)) == "2026-Q1"
        assert period_key(session, ana, None, today=date(2027, 1, 1)) == "2027-Q1"  # begun: the latest
        assert period_key(session, ana, "2027-Q1", today=date(2026, 12, 7)) == "2027-Q1"  # asked for: shown
        assert period_key(session, None, None, today=date(2026, 12, 7)) == "2026-Q4"


def test_statement_lines_come_in_the_calculators_order_after_a_partial_rewrite(
    client, engine: Engine, make_person
) -> None:  # type: ignore[no-untyped-def]
    """A recalculation rewrites only the lines that changed, so a renamed early deal's lines were stored (and
    listed) last; the statement lists them as calc does: plan order, deals by close date and id."""
    from tests.finance_fixtures import example_deal, setup_books, statement

    tokens = setup_books(engine, make_person)
    for body in (example_deal("D-1", "60000", "2026-01-10"), example_deal("D-2", "45000", "2026-02-03")):
        assert client.post("/api/v1/deals", json=body, headers=tokens["crm"]).status_code == 201
    renamed = example_deal("D-1", "60000", "2026-01-10", name="D-1 renamed")
    assert client.post("/api/v1/deals", json=renamed, headers=tokens["crm"]).status_code == 200
    doc = statement(client, tokens["finance"], "ana@example.com", "2026-Q1")
    (commission,) = [c for c in doc["components"] if c["name"] == "Commission"]
    assert [line["deal"] for line in commission["lines"]] == ["D-1", "D-2"]
    assert "D-1 renamed" in commission["lines"][0]["text"]


def test_every_plan_component_is_on_the_statement_even_at_zero(client, engine: Engine, make_person) -> None:  # type: ignore[no-untyped-def]
    """cli.md lists every plan component even at 0.00, and calc does; the stored statement left out a component
    that paid nothing and wrote no line (a SPIFF no deal qualified for)."""
    from tests.finance_fixtures import example_deal, setup_books, statement

    tokens = setup_books(engine, make_person)
    only_d1 = example_deal("D-1", "60000", "2026-01-10")  # 12 months: the multi-year SPIFF pays nothing
    assert client.post("/api/v1/deals", json=only_d1, headers=tokens["crm"]).status_code == 201
    doc = statement(client, tokens["finance"], "ana@example.com", "2026-Q1")
    assert [(c["name"], c["amount"], len(c["lines"])) for c in doc["components"]] == [
        ("Commission", "6000.00", 1),
        ("Multi-year SPIFF", "0.00", 0),
        ("Quota club", "0.00", 1),
    ]
