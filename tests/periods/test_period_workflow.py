"""The period workflow: open → approved → locked → paid, by finance only, audited with totals."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from commissions.models import AuditEvent, PayoutLine
from tests.conftest import csrf_from, read, sign_in
from tests.finance_fixtures import example_deal, period_row, setup_books, statement


def post_deal(client, tokens, *args, **kwargs):  # type: ignore[no-untyped-def]
    response = client.post("/api/v1/deals", json=example_deal(*args, **kwargs), headers=tokens["crm"])
    assert response.status_code in (200, 201), response.text
    return response


def test_the_whole_lifecycle(client, engine: Engine, make_person) -> None:
    tokens = setup_books(engine, make_person)
    post_deal(client, tokens, "D-1", "60000", "2026-01-10")
    post_deal(client, tokens, "B-1", "30000", "2026-02-10", owner="bo@example.com")
    fin = tokens["finance"]

    approved = client.post("/api/v1/periods/2026-Q1/approve", headers=fin)
    assert approved.status_code == 200, approved.text
    body = approved.json()
    assert body["state"] == "approved" and body["approved_by"] == "fin@example.com" and body["approved_at"]
    assert body["totals"] == {"USD": "9000.00"}
    people = {p["person"]: p for p in body["people"]}
    assert people["ana@example.com"]["total"] == "6000.00"
    assert people["ana@example.com"]["components"]["Commission"] == "6000.00"
    assert set(people["ana@example.com"]["components"]) == {"Commission", "Quota club"}
    assert people["bo@example.com"]["total"] == "3000.00"
    assert body["components"]["Commission"] == "9000.00"

    locked = client.post("/api/v1/periods/2026-Q1/lock", headers=fin)
    assert (
        locked.status_code == 200
        and locked.json()["state"] == "locked"
        and locked.json()["locked_by"] == "fin@example.com"
    )
    paid = client.post("/api/v1/periods/2026-Q1/pay", headers=fin)
    assert paid.status_code == 200 and paid.json()["state"] == "paid"
    assert paid.json()["totals"] == {"USD": "9000.00"}
    # times read back from the database keep their zone on both databases (SQLite's came back naive: no "Z")
    again = client.get("/api/v1/periods/2026-Q1", headers=fin).json()
    assert again["approved_at"] == body["approved_at"] and again["locked_at"] == locked.json()["locked_at"]
    assert all(again[k].endswith(("Z", "+00:00")) for k in ("approved_at", "locked_at", "paid_at")), again

    row = period_row(engine, "2026-Q1")
    assert row.state == "paid" and row.approved_at and row.locked_at and row.paid_at
    events = read(
        engine,
        lambda s: s.exec(select(AuditEvent).where(AuditEvent.object_type == "period").order_by(AuditEvent.id)).all(),
    )
    assert [e.action for e in events] == ["period.approved", "period.locked", "period.paid"]
    for event in events:
        assert event.actor_label == "fin@example.com" and event.at is not None
        assert event.detail["grand_totals"] == {"USD": "9000.00"}
        assert event.detail["people"]["ana@example.com"]["components"]["Commission"] == "6000.00"
    assert statement(client, fin, "ana@example.com", "2026-Q1")["state"] == "paid"


@pytest.mark.parametrize(
    ("state_steps", "action", "message"),
    [
        ([], "lock", "2026-Q1 is open: it must be approved before it can be locked"),
        ([], "pay", "2026-Q1 is open: it must be locked before it can be paid"),
        (["approve"], "approve", "2026-Q1 is already approved"),
        (["approve"], "pay", "must be locked before it can be paid"),
        (["approve", "lock"], "approve", "2026-Q1 is already locked"),
        (["approve", "lock", "pay"], "lock", "2026-Q1 is already paid"),
    ],
)
def test_wrong_order_is_409_and_changes_nothing(
    client, engine: Engine, make_person, state_steps, action, message
) -> None:
    tokens = setup_books(engine, make_person)
    post_deal(client, tokens, "D-1", "60000", "2026-01-10")
    for step in state_steps:
        assert client.post(f"/api/v1/periods/2026-Q1/{step}", headers=tokens["finance"]).status_code == 200
    before = period_row(engine, "2026-Q1")
    events = read(engine, lambda s: len(s.exec(select(AuditEvent)).all()))
    response = client.post(f"/api/v1/periods/2026-Q1/{action}", headers=tokens["finance"])
    assert response.status_code == 409
    assert message in response.json()["detail"]
    assert period_row(engine, "2026-Q1").model_dump() == before.model_dump()
    assert read(engine, lambda s: len(s.exec(select(AuditEvent)).all())) == events


def test_unknown_period_is_404(client, engine: Engine, make_person) -> None:
    tokens = setup_books(engine, make_person)
    response = client.post("/api/v1/periods/2031-Q1/approve", headers=tokens["finance"])
    assert response.status_code == 404
    assert client.post("/api/v1/periods/not-a-period/approve", headers=tokens["finance"]).status_code == 400


@pytest.mark.parametrize("role", ["rep", "manager", "admin"])
def test_only_finance_may_approve_lock_or_pay(client, engine: Engine, make_person, role: str) -> None:
    tokens = setup_books(engine, make_person)
    post_deal(client, tokens, "D-1", "60000", "2026-01-10")
    for action in ("approve", "lock", "pay"):
        response = client.post(f"/api/v1/periods/2026-Q1/{action}", headers=tokens[role])
        assert response.status_code == 403, (role, action)
        assert period_row(engine, "2026-Q1").state == "open"
    client.post("/api/v1/periods/2026-Q1/approve", headers=tokens["finance"])
    assert client.post("/api/v1/periods/2026-Q1/lock", headers=tokens[role]).status_code == 403
    assert period_row(engine, "2026-Q1").state == "approved"
    assert read(
        engine, lambda s: [e.action for e in s.exec(select(AuditEvent).where(AuditEvent.object_type == "period")).all()]
    ) == ["period.approved"]


def test_a_session_cookie_cannot_approve_through_the_api(client, engine: Engine, make_person) -> None:
    tokens = setup_books(engine, make_person)
    post_deal(client, tokens, "D-1", "60000", "2026-01-10")
    sign_in(client, "fin@example.com")
    assert client.post("/api/v1/periods/2026-Q1/approve").status_code in (401, 403)
    assert period_row(engine, "2026-Q1").state == "open"


def test_a_change_after_approval_reopens_the_period(client, engine: Engine, make_person) -> None:
    tokens = setup_books(engine, make_person)
    post_deal(client, tokens, "D-1", "60000", "2026-01-10")
    client.post("/api/v1/periods/2026-Q1/approve", headers=tokens["finance"])
    post_deal(client, tokens, "D-2", "10000", "2026-01-20")  # still open for deals: the figures change
    row = period_row(engine, "2026-Q1")
    assert row.state == "open" and row.approved_at is None
    reopened = read(engine, lambda s: s.exec(select(AuditEvent).where(AuditEvent.action == "period.reopened")).one())
    assert "figures changed after approval" in reopened.detail["reason"]
    lock = client.post("/api/v1/periods/2026-Q1/lock", headers=tokens["finance"])
    assert lock.status_code == 409 and "must be approved" in lock.json()["detail"]


def test_approval_recomputes_queued_statements_first(client, engine: Engine, make_person) -> None:
    """mia's override-free plan is not in play, but her queue entry must not be left behind at approval."""
    from commissions.calculation.state import pending_count

    tokens = setup_books(engine, make_person)
    post_deal(client, tokens, "D-1", "60000", "2026-01-10")
    assert read(engine, lambda s: pending_count(s, "2026-Q1")), "the manager chain was queued"
    assert client.post("/api/v1/periods/2026-Q1/approve", headers=tokens["finance"]).status_code == 200
    assert read(engine, lambda s: pending_count(s, "2026-Q1")) == 0


def test_approval_page_shows_totals_changes_and_buttons(client, engine: Engine, make_person) -> None:
    tokens = setup_books(engine, make_person)
    post_deal(client, tokens, "D-1", "60000", "2026-01-10")
    sign_in(client, "fin@example.com")
    page = client.get("/finance/periods/2026-Q1")
    assert page.status_code == 200
    html = page.text
    assert "Totals per person and component" in html and "6,000.00 USD" in html and "Commission" in html
    assert "What changed" in html and "D-1" in html
    # the net change per person names them (their email on hover), each amount in its own currency
    assert '<span title="ana@example.com">Ana</span> <strong>6,000.00 USD</strong>' in html
    assert 'action="/finance/periods/2026-Q1/approve"' in html and 'name="_csrf_token"' in html

    no_csrf = client.post("/finance/periods/2026-Q1/approve", data={})
    assert no_csrf.status_code == 403 and period_row(engine, "2026-Q1").state == "open"
    done = client.post(
        "/finance/periods/2026-Q1/approve", data={"_csrf_token": csrf_from(client)}, follow_redirects=False
    )
    assert done.status_code == 303 and period_row(engine, "2026-Q1").state == "approved"
    confirmed = client.get(done.headers["location"]).text
    assert 'role="status" id="period-done">Approved: 2026-Q1&#39;s statements are approved' in confirmed
    html = client.get("/finance/periods/2026-Q1").text
    assert 'action="/finance/periods/2026-Q1/lock"' in html and "approved" in html and 'id="period-done"' not in html
    refused = client.post("/finance/periods/2026-Q1/pay", data={"_csrf_token": csrf_from(client)})
    assert refused.status_code == 409 and "must be locked before it can be paid" in refused.text
    assert period_row(engine, "2026-Q1").state == "approved"
    # after approval, a new deal shows as a change since the approval
    post_deal(client, tokens, "D-2", "10000", "2026-01-20")
    html = client.get("/finance/periods/2026-Q1").text
    assert "since the last approval" in html and "D-2" in html


def test_periods_list_links_each_period(client, engine: Engine, make_person) -> None:
    tokens = setup_books(engine, make_person)
    post_deal(client, tokens, "D-1", "60000", "2026-01-10")
    sign_in(client, "fin@example.com")
    html = client.get("/finance/periods").text
    assert 'href="/finance/periods/2026-Q1"' in html and "state-open" in html


@pytest.mark.parametrize("role", ["rep", "manager", "admin"])
def test_approval_page_and_buttons_are_finance_only(client, engine: Engine, make_person, role: str) -> None:
    tokens = setup_books(engine, make_person)
    post_deal(client, tokens, "D-1", "60000", "2026-01-10")
    email = {"rep": "ana@example.com", "manager": "mia@example.com", "admin": "root@example.com"}[role]
    sign_in(client, email)
    assert client.get("/finance/periods/2026-Q1").status_code == 403
    assert client.post("/finance/periods/2026-Q1/approve", data={"_csrf_token": csrf_from(client)}).status_code == 403
    assert period_row(engine, "2026-Q1").state == "open"
    assert read(engine, lambda s: s.exec(select(PayoutLine)).all())  # the deal's lines are there, untouched


def test_lock_refuses_figures_that_changed_since_approval_and_keeps_them(client, engine: Engine, make_person) -> None:
    from commissions.calculation.state import touch
    from commissions.core.db import transaction
    from commissions.models import Quota
    from tests.finance_fixtures import person_id

    tokens = setup_books(engine, make_person)
    post_deal(client, tokens, "D-1", "60000", "2026-01-10")
    client.post("/api/v1/periods/2026-Q1/approve", headers=tokens["finance"])
    ana = person_id(engine, "ana@example.com")
    with transaction(engine) as s:  # a change the worker has not recomputed yet
        quota = s.exec(select(Quota).where(Quota.person_id == ana)).one()
        quota.target_minor = 5_000_000
        touch(s, {ana}, {"2026-Q1"})
    refused = client.post("/api/v1/periods/2026-Q1/lock", headers=tokens["finance"])
    assert refused.status_code == 409 and "must be approved" in refused.json()["detail"]
    assert period_row(engine, "2026-Q1").state == "open"  # the recomputation was kept, the approval dropped
    approved = client.post("/api/v1/periods/2026-Q1/approve", headers=tokens["finance"]).json()
    assert approved["people"][0]["total"] == "9000.00"  # 50000 x 10% + 10000 x 15% + quota club 2500
    assert client.post("/api/v1/periods/2026-Q1/lock", headers=tokens["finance"]).json()["state"] == "locked"


def test_each_step_on_the_page_is_confirmed(client, engine: Engine, make_person) -> None:
    tokens = setup_books(engine, make_person)
    post_deal(client, tokens, "D-1", "60000", "2026-01-10")
    sign_in(client, "fin@example.com")
    said = {}
    for action in ("approve", "lock", "pay"):
        done = client.post(
            f"/finance/periods/2026-Q1/{action}", data={"_csrf_token": csrf_from(client)}, follow_redirects=False
        )
        assert done.status_code == 303 and done.headers["location"].endswith(f"?done={action}")
        said[action] = client.get(done.headers["location"]).text.split('id="period-done">')[1].split("</p>")[0]
    assert said["lock"].startswith("Locked: 2026-Q1&#39;s pay no longer changes; a later change becomes an adjustment")
    assert said["pay"] == "Marked paid: 2026-Q1 is closed."
    assert period_row(engine, "2026-Q1").state == "paid"


def test_approving_on_the_page_past_an_open_dispute_asks_first(client, engine: Engine, make_person) -> None:
    """An open dispute (or a failed statement) is named and a box must be ticked; pending statements are not asked
    about (the approval recomputes them); nothing changes until the box is ticked."""
    from commissions.core.db import transaction
    from commissions.models import Dispute, Person

    tokens = setup_books(engine, make_person)
    post_deal(client, tokens, "D-1", "60000", "2026-01-10")
    with transaction(engine) as s:
        rep = s.exec(select(Person).where(Person.role == "rep")).first()
        assert rep is not None and rep.id is not None
        s.add(Dispute(person_id=rep.id, period_id=period_row(engine, "2026-Q1").id, opened_by_id=rep.id))
    sign_in(client, "fin@example.com")
    page = client.get("/finance/periods/2026-Q1").text
    assert 'name="confirm_open" value="yes" required' in page
    asked = client.post("/finance/periods/2026-Q1/approve", data={"_csrf_token": csrf_from(client)})
    assert asked.status_code == 409 and "has open items (Disputes open: 1)" in asked.text
    assert period_row(engine, "2026-Q1").state == "open"
    done = client.post(
        "/finance/periods/2026-Q1/approve",
        data={"_csrf_token": csrf_from(client), "confirm_open": "yes"},
        follow_redirects=False,
    )
    assert done.status_code == 303 and period_row(engine, "2026-Q1").state == "approved"


def test_approving_a_period_still_running_says_so_first(client, engine: Engine, make_person) -> None:
    """A period approved (or locked) before it ends takes later deals as a reopening or as adjustments: the page
    says so beside the button. A period that has ended does not."""
    from datetime import date

    from commissions.core.periods import quarter_of

    running = quarter_of(date.today())
    tokens = setup_books(engine, make_person)
    post_deal(client, tokens, "D-1", "60000", "2026-01-10")
    post_deal(client, tokens, "D-2", "1000", running.starts_on.isoformat())
    sign_in(client, "fin@example.com")
    page = client.get(f"/finance/periods/{running.key}").text
    assert 'id="period-running"' in page and f"{running.key} runs until {running.ends_on}" in page
    assert 'id="period-running"' not in client.get("/finance/periods/2026-Q1").text  # ended
