"""A locked period never changes: late, edited and cancelled deals and quota changes become
prior-period adjustment lines in the earliest open period (plans.md section 6)."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlmodel import select

from commissions.models import AuditEvent, Deal, PayoutLine, Period
from tests.conftest import read
from tests.finance_fixtures import (
    example_deal,
    ledger_of,
    lines_in,
    period_row,
    setup_books,
    snapshot,
    statement,
)


def post(client, tokens, *args, **kwargs):  # type: ignore[no-untyped-def]
    response = client.post("/api/v1/deals", json=example_deal(*args, **kwargs), headers=tokens["crm"])
    assert response.status_code in (200, 201), response.text
    return response


def locked_q1(client, engine: Engine, make_person) -> dict:  # type: ignore[no-untyped-def]
    """ana has D-1 (60000: 6000.00 commission) in 2026-Q1, which finance approves and locks."""
    tokens = setup_books(engine, make_person)
    post(client, tokens, "D-1", "60000", "2026-01-10")
    assert client.post("/api/v1/periods/2026-Q1/approve", headers=tokens["finance"]).status_code == 200
    assert client.post("/api/v1/periods/2026-Q1/lock", headers=tokens["finance"]).status_code == 200
    return tokens


def prior_lines(engine: Engine, email: str = "ana@example.com", key: str = "2026-Q2") -> list[PayoutLine]:
    return [line for line in ledger_of(engine, email, key) if line.kind in ("adjustment", "clawback")]


def q1_id(engine: Engine) -> int:
    return period_row(engine, "2026-Q1").id


def deal_id(engine: Engine, external_id: str) -> int:
    return read(engine, lambda s: s.exec(select(Deal.id).where(Deal.external_id == external_id)).one())


def test_a_late_deal_after_lock_changes_nothing_in_the_locked_period(client, engine: Engine, make_person) -> None:
    tokens = locked_q1(client, engine, make_person)
    before = snapshot(engine, "2026-Q1")
    late = post(client, tokens, "D-9", "30000", "2026-02-15")
    assert late.status_code == 201  # the deal is recorded: the deal table holds the truth
    assert snapshot(engine, "2026-Q1") == before, "the locked period's lines and summaries are byte-for-byte the same"
    # 60000 + 30000 = 90000 of a 100000 quota at 10%: 9000.00 instead of 6000.00
    [line] = prior_lines(engine)
    assert (line.kind, line.amount_minor, line.original_period_id, line.deal_id) == (
        "adjustment",
        300_000,
        q1_id(engine),
        deal_id(engine, "D-9"),
    )
    assert "2026-Q1" in line.text and "D-9" in line.text
    assert period_row(engine, "2026-Q2").state == "open"
    st = statement(client, tokens["finance"], "ana@example.com", "2026-Q2")
    assert st["total"] == "3000.00"
    assert st["adjustments"] == [
        {
            "kind": "adjustment",
            "component": "Prior-period adjustment",
            "original_period": "2026-Q1",
            "deal": "D-9",
            "amount": "3000.00",
            "text": line.text,
            "manual": False,
        }
    ]
    assert (
        read(
            engine, lambda s: s.exec(select(AuditEvent).where(AuditEvent.action == "period.prior_adjustment")).one()
        ).detail["into"]
        == "2026-Q2"
    )


def test_the_same_change_twice_books_nothing_the_second_time(client, engine: Engine, make_person) -> None:
    tokens = locked_q1(client, engine, make_person)
    post(client, tokens, "D-9", "30000", "2026-02-15")
    again = post(client, tokens, "D-9", "30000", "2026-02-15")
    assert again.status_code == 200
    assert len(prior_lines(engine)) == 1
    # even recomputing the difference again books nothing: what is in force already includes the adjustment
    from commissions.adjustments.prior_period import book_locked_change
    from commissions.core.db import transaction

    with transaction(engine) as s:
        period = s.exec(select(Period).where(Period.key == "2026-Q1")).one()
        deal = s.exec(select(Deal).where(Deal.external_id == "D-9")).one()
        booked = book_locked_change(
            s, period=period, people={deal.owner_id}, deal=deal, what="", actor=None, trigger="t"
        )
    assert booked.lines == []
    assert len(prior_lines(engine)) == 1


def test_an_edited_amount_after_lock_books_the_difference(client, engine: Engine, make_person) -> None:
    tokens = locked_q1(client, engine, make_person)
    before = snapshot(engine, "2026-Q1")
    post(client, tokens, "D-1", "120000", "2026-01-10")  # 60000 → 120000
    assert snapshot(engine, "2026-Q1") == before
    # 100000 x 10% + 20000 x 15% = 13000 + quota club 2500 = 15500; 6000 in force: +9500
    [line] = prior_lines(engine)
    assert (line.kind, line.amount_minor, line.deal_id) == ("adjustment", 950_000, deal_id(engine, "D-1"))
    post(client, tokens, "D-1", "110000", "2026-01-10")  # edited again: only the new difference
    lines = prior_lines(engine)
    assert [x.amount_minor for x in lines] == [950_000, -150_000]  # 10000 + 1500 + 2500 = 14000
    assert statement(client, tokens["finance"], "ana@example.com", "2026-Q2")["total"] == "8000.00"


def test_a_cancellation_after_lock_is_a_clawback(client, engine: Engine, make_person) -> None:
    tokens = locked_q1(client, engine, make_person)
    before = snapshot(engine, "2026-Q1")
    post(client, tokens, "D-1", "60000", "2026-01-10", status="cancelled", cancelled_at="2026-04-20")
    assert snapshot(engine, "2026-Q1") == before
    [line] = prior_lines(engine)
    assert (line.kind, line.amount_minor, line.original_period_id, line.deal_id) == (
        "clawback",
        -600_000,
        q1_id(engine),
        deal_id(engine, "D-1"),
    )
    assert line.text.startswith("Clawback for 2026-Q1: deal D-1") and "cancelled on 2026-04-20" in line.text
    st = statement(client, tokens["finance"], "ana@example.com", "2026-Q2")
    assert st["total"] == "-6000.00" and st["adjustments"][0]["kind"] == "clawback"
    assert st["adjustments"][0]["original_period"] == "2026-Q1" and st["adjustments"][0]["deal"] == "D-1"


def test_a_quota_change_after_lock_is_an_adjustment_without_a_deal(client, engine: Engine, make_person) -> None:
    tokens = locked_q1(client, engine, make_person)
    before = snapshot(engine, "2026-Q1")
    response = client.put(
        "/api/v1/quotas",
        json=[{"person": "ana@example.com", "metric": "bookings", "period": "2026-Q1", "target": "50000"}],
        headers=tokens["admin"],
    )
    assert response.status_code == 200, response.text
    assert snapshot(engine, "2026-Q1") == before
    # quota 50000: 50000 x 10% + 10000 x 15% = 6500 + quota club 2500 = 9000; 6000 in force: +3000
    [line] = prior_lines(engine)
    assert (line.kind, line.amount_minor, line.deal_id, line.original_period_id) == (
        "adjustment",
        300_000,
        None,
        q1_id(engine),
    )
    assert "quota change" in line.text and "2026-Q1" in line.text


def test_adjustments_go_to_the_earliest_open_period(client, engine: Engine, make_person) -> None:
    tokens = locked_q1(client, engine, make_person)
    post(client, tokens, "D-5", "10000", "2026-04-10")  # 2026-Q2 exists and gets approved and locked too
    for step in ("approve", "lock"):
        assert client.post(f"/api/v1/periods/2026-Q2/{step}", headers=tokens["finance"]).status_code == 200
    post(client, tokens, "D-9", "30000", "2026-02-15")
    assert prior_lines(engine, key="2026-Q2") == []
    [line] = prior_lines(engine, key="2026-Q3")
    assert line.amount_minor == 300_000 and line.original_period_id == q1_id(engine)


def test_a_deal_before_the_lock_is_in_the_period_and_never_counted_twice(client, engine: Engine, make_person) -> None:
    tokens = setup_books(engine, make_person)
    post(client, tokens, "D-1", "60000", "2026-01-10")
    post(client, tokens, "D-2", "30000", "2026-01-11")  # before the lock: an ordinary line in 2026-Q1
    client.post("/api/v1/periods/2026-Q1/approve", headers=tokens["finance"])
    client.post("/api/v1/periods/2026-Q1/lock", headers=tokens["finance"])
    post(client, tokens, "D-2", "30000", "2026-01-11")  # delivered again after the lock: nothing
    assert sum(x.amount_minor for x in lines_in(engine, "ana@example.com", "2026-Q1")) == 900_000
    assert (
        read(engine, lambda s: s.exec(select(PayoutLine).where(PayoutLine.kind.in_(("adjustment", "clawback")))).all())
        == []
    )


def test_a_csv_import_into_a_locked_period_books_adjustments_per_deal(client, engine: Engine, make_person) -> None:
    from commissions.deals.csv_import import import_deals

    locked_q1(client, engine, make_person)
    header = "external_id,name,account,owner,amount,currency,closed_at,type,product,term_months,source_campaign,status,cancelled_at,splits\n"
    rows = (
        "L-1,Late one,Acme,ana@example.com,20000,USD,2026-02-01,new,Pro,12,,won,,\n"
        "L-2,Late two,Acme,ana@example.com,10000,USD,2026-03-01,new,Pro,12,,won,,\n"
        "N-1,New one,Acme,ana@example.com,5000,USD,2026-05-01,new,Pro,12,,won,,\n"
    )
    before = snapshot(engine, "2026-Q1")
    report = import_deals(engine, (header + rows).encode(), by=None, commit=True)
    assert report.committed, report.errors
    assert snapshot(engine, "2026-Q1") == before
    lines = prior_lines(engine)
    assert [(x.amount_minor, x.deal_id) for x in lines] == [
        (200_000, deal_id(engine, "L-1")),
        (100_000, deal_id(engine, "L-2")),
    ]


def test_a_delivery_during_the_lock_waits_for_it_and_becomes_an_adjustment(client, engine: Engine, make_person) -> None:
    """The lock holds the period's lock (advisory lock / SQLite write lock) until it commits; a delivery
    arriving meanwhile waits, then sees the period locked: an adjustment, never a lost or double line."""
    import threading

    from commissions.core.db import transaction
    from commissions.core.principal import Principal
    from commissions.deals.schemas import DealIn
    from commissions.deals.service import record_one
    from commissions.periods.workflow import transition

    tokens = setup_books(engine, make_person)
    post(client, tokens, "D-1", "60000", "2026-01-10")
    client.post("/api/v1/periods/2026-Q1/approve", headers=tokens["finance"])
    finance = Principal(role="finance", person_id=None, email="fin@example.com", name="Fin")
    outcome: dict = {}

    def deliver() -> None:
        try:
            outcome["result"], _ = record_one(engine, DealIn(**example_deal("D-9", "30000", "2026-02-15")), by=None)
        except Exception as exc:
            outcome["error"] = exc

    with transaction(engine) as s:
        transition(s, key="2026-Q1", action="lock", actor=finance)  # holds the period's lock until commit
        worker = threading.Thread(target=deliver)
        worker.start()
    worker.join(30)
    assert "error" not in outcome, outcome
    assert outcome["result"].outcome == "created"
    q1 = [x for x in lines_in(engine, "ana@example.com", "2026-Q1") if x.deal_id == deal_id(engine, "D-9")]
    assert q1 == []
    [line] = prior_lines(engine)
    assert (line.amount_minor, line.deal_id) == (300_000, deal_id(engine, "D-9"))


def test_a_plan_assignment_reaching_a_locked_period_is_an_adjustment(client, engine: Engine, make_person) -> None:
    from datetime import date

    from commissions.core.db import transaction
    from commissions.models import Person, Plan
    from commissions.plans.service import assign
    from tests.calc_fixtures import store_quota

    tokens = locked_q1(client, engine, make_person)
    make_person("cy@example.com", manager="mia@example.com")
    store_quota(engine, "cy@example.com", 100_000)
    post(client, tokens, "C-1", "20000", "2026-02-01", owner="cy@example.com")  # no plan yet: nothing paid
    before = snapshot(engine, "2026-Q1")
    with transaction(engine) as s:
        assign(
            s,
            plan=s.exec(select(Plan)).one(),
            person=s.exec(select(Person).where(Person.email == "cy@example.com")).one(),
            starts_on=date(2026, 1, 1),
            by=None,
        )
    assert snapshot(engine, "2026-Q1") == before
    [line] = prior_lines(engine, "cy@example.com")
    assert (line.kind, line.amount_minor, line.deal_id, line.original_period_id) == (
        "adjustment",
        200_000,
        None,
        q1_id(engine),
    )
    assert "plan assignment change (AE 2026)" in line.text


def test_a_period_holding_only_an_adjustment_is_offered_on_the_statement_page(
    client, engine: Engine, make_person
) -> None:
    from tests.conftest import sign_in

    tokens = locked_q1(client, engine, make_person)
    post(client, tokens, "D-9", "30000", "2026-02-15")  # late: its only trace in 2026-Q2 is an adjustment line
    assert sign_in(client, "ana@example.com").status_code == 302
    page = client.get("/statements/ana@example.com?period=2026-Q2")
    assert page.status_code == 200
    assert "<option selected>2026-Q2</option>" in page.text and "<option>2026-Q1</option>" in page.text
    assert "Prior-period adjustment for 2026-Q1" in page.text


def test_a_deal_of_a_locked_period_is_never_edited_in_place_its_locked_version_is_kept(
    client, engine: Engine, make_person
) -> None:  # type: ignore[no-untyped-def]
    """api.md: deals of a locked period are never edited in place. The deal row takes the change (open periods
    and the adjustment follow it); the version the locked period paid on is kept, and the deal's page shows it."""
    from commissions.models import DealRevision
    from tests.conftest import sign_in

    tokens = locked_q1(client, engine, make_person)
    post(client, tokens, "D-1", "80000", "2026-01-10")  # edited after the lock
    post(client, tokens, "D-1", "80000", "2026-01-10", status="cancelled", cancelled_at="2026-04-02")
    kept = read(
        engine,
        lambda s: [
            (r.period_key, r.period_state, r.deal["amount"], r.deal["status"], r.replaced_by)
            for r in s.exec(select(DealRevision).order_by(DealRevision.id)).all()
        ],
    )
    assert [k[:4] for k in kept] == [("2026-Q1", "locked", "60000.00", "won"), ("2026-Q1", "locked", "80000.00", "won")]
    assert all(k[4] for k in kept)  # who replaced it
    post(client, tokens, "D-1", "80000", "2026-01-10", status="cancelled", cancelled_at="2026-04-02")  # the same again
    assert read(engine, lambda s: len(s.exec(select(DealRevision)).all())) == 2  # nothing replaced: nothing kept

    post(client, tokens, "D-5", "10000", "2026-04-10")  # an open period's deal: edited in place, nothing kept
    post(client, tokens, "D-5", "12000", "2026-04-10")
    assert read(engine, lambda s: len(s.exec(select(DealRevision)).all())) == 2

    sign_in(client, "fin@example.com")
    page = client.get(f"/deals/{deal_id(engine, 'D-1')}").text
    assert 'id="deal-versions"' in page and "60,000.00 USD" in page and "80,000.00 USD" in page
    assert 'id="deal-versions"' not in client.get(f"/deals/{deal_id(engine, 'D-5')}").text


def test_a_late_deal_that_cannot_be_recomputed_in_its_locked_period_is_said_on_its_page(
    client, engine: Engine, make_person
) -> None:  # type: ignore[no-untyped-def]
    """Cy is on the plan but has no quota in the locked 2026-Q1: the late deal pays nobody there. It was only a
    warning in the server's log; the deal's page and the audit log say it."""
    from tests.calc_fixtures import store_plan as on_plan
    from tests.conftest import sign_in

    tokens = locked_q1(client, engine, make_person)
    make_person("cy@example.com", manager="mia@example.com")
    on_plan(engine, ["cy@example.com"], name="AE for Cy")
    response = client.post(
        "/api/v1/deals", json=example_deal("D-7", "40000", "2026-02-20", owner="cy@example.com"), headers=tokens["crm"]
    )
    assert response.status_code == 201, response.text
    events = read(
        engine,
        lambda s: s.exec(select(AuditEvent).where(AuditEvent.action == "period.prior_adjustment_skipped")).all(),
    )
    assert len(events) == 1 and (events[0].object_type, events[0].object_id) == ("deal", "D-7")
    assert events[0].detail["period"] == "2026-Q1"
    assert "quota" in events[0].detail["people"][0]["why"]
    sign_in(client, "fin@example.com")
    page = client.get(f"/deals/{deal_id(engine, 'D-7')}").text
    assert 'id="not-booked-2026-Q1"' in page and "<strong>Cy</strong>" in page
    assert "nothing was booked for" in page
    # and the locked-period notice above it does not say, against the alert, that nothing from it was booked
    assert "No prior-period adjustment from it appears" not in page
