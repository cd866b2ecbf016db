"""Release on cash and holds, worked by hand (docs/finance.md, "Release on cash" and "Holds").

A 50,000.00 deal closed 2026-02-15 on a plan paying 10 % and releasing on payment pro rata earns
5,000.00 in 2026-Q1. Paid 20,000.00 on 2026-03-10 (Q1: 20,000 / 50,000 = 40 %) and 30,000.00 on
2026-04-20 (Q2: the last payment takes the remainder, 60 %):
    Q1: earned 5,000.00, released 5,000 × 40 % = 2,000.00, waiting 3,000.00, payable 2,000.00
    Q2: earned 0.00, released 3,000.00, waiting 0.00, payable 3,000.00
"""

from __future__ import annotations

import csv
import io

from sqlalchemy import Engine
from sqlmodel import select

from commissions.core.db import transaction
from commissions.holds.cash import held_by_person
from commissions.models import AuditEvent, CommissionHold, InvoicePayment
from tests.calc_fixtures import example_deal, store_plan
from tests.conftest import csrf_from, read, sign_in
from tests.deals.test_deals_api import token_for

CASH_PLAN = """\
name: Cash 2026
currency: USD
period: quarter
components:
  - name: Commission
    kind: per_deal
    rate: 10%
release: {on: payment, pro_rata: true}
"""


def books(client, engine: Engine, make_person) -> dict[str, dict[str, str]]:  # type: ignore[no-untyped-def]
    make_person("ana@example.com")
    make_person("fin@example.com", "finance")
    make_person("root@example.com", "admin")
    make_person("mia@example.com", "manager")
    store_plan(engine, ["ana@example.com"], document=CASH_PLAN, name="Cash 2026")
    tokens = {
        "crm": token_for(engine, "admin"),
        "finance": token_for(engine, "finance", "fin@example.com"),
        "admin": token_for(engine, "admin", "root@example.com"),
        "rep": token_for(engine, "rep", "ana@example.com"),
        "manager": token_for(engine, "manager", "mia@example.com"),
    }
    response = client.post("/api/v1/deals", json=example_deal("D-1", "50000", "2026-02-15"), headers=tokens["crm"])
    assert response.status_code == 201, response.text
    return tokens


def pay(client, headers, *payments: tuple[str, str, str]):  # type: ignore[no-untyped-def]
    body = [{"invoice": i, "deal": "D-1", "amount": a, "paid_at": d} for i, a, d in payments]
    return client.post("/api/v1/payments", json=body, headers=headers)


def cash(client, headers, key: str) -> dict:  # type: ignore[no-untyped-def]
    response = client.get(f"/api/v1/statements/ana@example.com?period={key}", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["cash"]


def payroll(client, headers, key: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    response = client.get(f"/api/v1/payouts/{key}.csv", headers=headers)
    assert response.status_code == 200, response.text
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert list(rows[0]) == [
        "employee_id", "email", "name", "period", "currency", "earned", "adjustments",
        "clawbacks", "draw", "net_payable", "plan", "status",
    ]  # fmt: skip
    [row] = [r for r in rows if r["email"] == "ana@example.com"]
    return row


def test_a_deal_paid_in_two_instalments_releases_40_then_60_percent(client, engine: Engine, make_person) -> None:
    tokens = books(client, engine, make_person)
    fin = tokens["finance"]
    # earned, nothing paid yet: everything waits
    before = cash(client, fin, "2026-Q1")
    assert (before["earned"], before["waiting"], before["released"], before["payable"]) == (
        "5000.00", "5000.00", "0.00", "0.00",
    )  # fmt: skip
    assert payroll(client, fin, "2026-Q1")["net_payable"] == "0.00"

    response = pay(client, fin, ("INV-1", "20000.00", "2026-03-10"))
    assert response.status_code == 200, response.text
    assert response.json()["created"] == 1
    q1 = cash(client, fin, "2026-Q1")
    assert (q1["earned"], q1["waiting"], q1["released"], q1["held"], q1["payable"]) == (
        "5000.00", "3000.00", "2000.00", "0.00", "2000.00",
    )  # fmt: skip
    row = payroll(client, fin, "2026-Q1")
    assert (row["earned"], row["net_payable"]) == ("5000.00", "2000.00")
    sign_in(client, "ana@example.com")
    page = client.get("/statements/ana@example.com?period=2026-Q1").text
    assert "Earned, waiting for payment" in page and "Payable this period" in page
    # the page formats them as every figure is (thousands grouped), the API answers decimal strings
    assert '<td class="num">3,000.00 USD</td>' in page and '<span class="total">2,000.00 USD</span>' in page
    assert "3000.00 USD" not in page

    assert pay(client, tokens["admin"], ("INV-2", "30000.00", "2026-04-20")).status_code == 200
    q2_row = payroll(client, fin, "2026-Q2")
    assert (q2_row["earned"], q2_row["net_payable"]) == ("0.00", "3000.00")
    assert payroll(client, fin, "2026-Q1")["net_payable"] == "2000.00"  # Q1 unchanged by a Q2 payment
    # the same payment again changes nothing; a different body for a known invoice is refused, all or nothing
    again = pay(client, fin, ("INV-2", "30000.00", "2026-04-20"), ("INV-3", "1.00", "2026-04-21"))
    assert again.status_code == 200 and again.json()["unchanged"] == 1 and again.json()["created"] == 1
    refused = pay(client, fin, ("INV-4", "1.00", "2026-04-22"), ("INV-1", "999.00", "2026-03-10"))
    assert refused.status_code == 400
    assert refused.json()["extra"]["errors"][0]["index"] == 1
    assert (
        read(engine, lambda s: s.exec(select(InvoicePayment.invoice).where(InvoicePayment.invoice == "INV-4")).first())
        is None
    )
    assert (
        read(engine, lambda s: len(s.exec(select(AuditEvent).where(AuditEvent.action == "payment.recorded")).all()))
        == 3
    )


def test_a_payment_into_a_locked_period_is_released_in_the_next_open_one(client, engine: Engine, make_person) -> None:
    tokens = books(client, engine, make_person)
    fin = tokens["finance"]
    for step in ("approve", "lock"):
        assert client.post(f"/api/v1/periods/2026-Q1/{step}", headers=fin).status_code == 200
    locked = client.get("/api/v1/payouts/2026-Q1.csv", headers=fin).content
    assert pay(client, fin, ("INV-1", "20000.00", "2026-03-10")).status_code == 200
    assert client.get("/api/v1/payouts/2026-Q1.csv", headers=fin).content == locked  # a locked payroll is final
    assert payroll(client, fin, "2026-Q2")["net_payable"] == "2000.00"


def test_a_hold_on_a_deal_and_its_release_in_the_next_period(client, engine: Engine, make_person) -> None:
    tokens = books(client, engine, make_person)
    fin = tokens["finance"]
    assert pay(client, fin, ("INV-1", "20000.00", "2026-03-10")).status_code == 200
    response = client.post(
        "/api/v1/holds", json={"deal": "D-1", "period": "2026-Q1", "reason": "invoice disputed"}, headers=fin
    )
    assert response.status_code == 201, response.text
    hold = response.json()
    assert (hold["state"], hold["amounts"]) == (
        "held",
        [{"person": "ana@example.com", "currency": "USD", "amount": "2000.00"}],
    )
    q1 = cash(client, fin, "2026-Q1")
    assert (q1["held"], q1["payable"], q1["holds"]) == ("2000.00", "0.00", ["held by finance: invoice disputed"])
    assert payroll(client, fin, "2026-Q1")["net_payable"] == "0.00"
    with read_session(engine) as s:
        assert held_by_person(s, "2026-Q1") == {hold_person(engine): 2000}
    # the rep sees it on their statement page
    sign_in(client, "ana@example.com")
    assert "held by finance: invoice disputed" in client.get("/statements/ana@example.com?period=2026-Q1").text
    # Q1 is locked with the hold in place (the close checklist names it: the lock takes a reason), and its
    # payroll keeps it back for good
    assert client.post("/api/v1/periods/2026-Q1/approve", headers=fin).status_code == 200
    assert client.post("/api/v1/periods/2026-Q1/lock", headers=fin).status_code == 409
    reason = {"override_reason": "released when the invoice dispute is settled"}
    assert client.post("/api/v1/periods/2026-Q1/lock", params=reason, headers=fin).status_code == 200
    locked = client.get("/api/v1/payouts/2026-Q1.csv", headers=fin).content
    refused = client.post(
        "/api/v1/holds", json={"person": "ana@example.com", "period": "2026-Q1", "reason": "x"}, headers=fin
    )
    assert refused.status_code == 409
    # the locked period's checklist: the hold links the holds of that period (it can still be released); a
    # pending statement there would have nothing left to fix
    sign_in(client, "fin@example.com")
    checklist = client.get("/finance/periods/2026-Q1").text
    assert '✗ Holds: <strong>1</strong> · <a href="/finance/holds?period=2026-Q1">fix</a>' in checklist
    assert "#freshness" not in checklist.split('id="close-checklist"')[1].split("</section>")[0]
    # the reason it was locked with the hold open is on the page, not only in the audit log
    assert (
        "Locked with open items on its close checklist (holds: 1). "
        "The reason given: released when the invoice dispute is settled" in checklist
    )
    # released in Q2: paid in Q2 (the earliest open period), the locked Q1 export does not move
    released = client.post(f"/api/v1/holds/{hold['id']}/release", json={"note": "customer paid"}, headers=fin)
    assert released.status_code == 200, released.text
    assert (released.json()["state"], released.json()["payable_period"]) == ("released", "2026-Q2")
    assert client.post(f"/api/v1/holds/{hold['id']}/release", json={}, headers=fin).status_code == 409
    assert client.get("/api/v1/payouts/2026-Q1.csv", headers=fin).content == locked
    assert pay(client, fin, ("INV-2", "30000.00", "2026-04-20")).status_code == 200
    assert payroll(client, fin, "2026-Q2")["net_payable"] == "5000.00"  # 3,000.00 released by INV-2 + the 2,000.00 hold
    q2 = cash(client, fin, "2026-Q2")
    assert (q2["released"], q2["holds_released"], q2["payable"]) == ("3000.00", "2000.00", "5000.00")
    # no plan computed anything for ana in Q2 (she is paid released commission only): her statement says so
    # instead of an alarm that its figures "cannot be reproduced offline"
    sign_in(client, "fin@example.com")
    statement = client.get("/statements/ana@example.com?period=2026-Q2").text
    assert 'id="nothing-computed"' in statement and "cannot be reproduced offline" not in statement
    actions = read(
        engine,
        lambda s: [
            e.action for e in s.exec(select(AuditEvent).where(AuditEvent.object_type == "commission_hold")).all()
        ],
    )
    assert actions == ["hold.created", "hold.released"]
    listed = client.get("/api/v1/holds?period=2026-Q1&status=released", headers=fin).json()
    assert [h["id"] for h in listed] == [hold["id"]] and listed[0]["release_note"] == "customer paid"
    assert client.get("/api/v1/holds?status=held", headers=fin).json() == []


def test_a_person_hold_released_while_its_period_is_open_pays_in_that_period(
    client, engine: Engine, make_person
) -> None:
    tokens = books(client, engine, make_person)
    fin = tokens["finance"]
    assert pay(client, fin, ("INV-1", "50000.00", "2026-03-10")).status_code == 200
    hold = client.post(
        "/api/v1/holds", json={"person": "ana@example.com", "period": "2026-Q1", "reason": "left"}, headers=fin
    ).json()
    assert payroll(client, fin, "2026-Q1")["net_payable"] == "0.00"
    released = client.post(f"/api/v1/holds/{hold['id']}/release", json={"note": "ok"}, headers=fin).json()
    assert released["payable_period"] == "2026-Q1"
    assert payroll(client, fin, "2026-Q1")["net_payable"] == "5000.00"


def test_holds_and_payments_refuse_other_roles_and_bad_input(client, engine: Engine, make_person) -> None:
    tokens = books(client, engine, make_person)
    body = {"deal": "D-1", "period": "2026-Q1", "reason": "why"}
    for role in ("rep", "manager", "admin"):
        assert client.post("/api/v1/holds", json=body, headers=tokens[role]).status_code == 403
        assert client.get("/api/v1/holds", headers=tokens[role]).status_code == 403
    for role in ("rep", "manager"):
        assert pay(client, tokens[role], ("INV-1", "1.00", "2026-03-10")).status_code == 403
    assert client.post("/api/v1/holds", json=body).status_code == 401
    assert client.get("/api/v1/holds").status_code == 401
    assert pay(client, {}, ("INV-1", "1.00", "2026-03-10")).status_code == 401
    assert read(engine, lambda s: s.exec(select(CommissionHold)).all()) == []
    fin = tokens["finance"]
    bad = client.post("/api/v1/holds", json={**body, "deal": "NOPE"}, headers=fin)
    assert bad.status_code == 400 and "NOPE" in bad.json()["detail"]
    assert client.post("/api/v1/holds", json={**body, "reason": " "}, headers=fin).status_code == 400
    assert client.post("/api/v1/holds", json={**body, "person": "ana@example.com"}, headers=fin).status_code == 400
    bad_pay = pay(client, fin, ("INV-1", "abc", "2026-03-10"))
    assert bad_pay.status_code == 400 and bad_pay.json()["extra"]["errors"][0]["field"] == "amount"
    assert bad_pay.json()["extra"]["errors"][0]["message"] == "'abc' is not an amount: write it like 20000.00"


def test_the_finance_page_holds_releases_and_imports_payments(client, engine: Engine, make_person) -> None:
    books(client, engine, make_person)
    sign_in(client, "fin@example.com")
    token = csrf_from(client)
    page = client.get("/finance/holds")
    assert page.status_code == 200 and "Hold commission" in page.text
    neither = client.post("/finance/holds", data={"period": "2026-Q1", "reason": "x", "_csrf_token": token})
    assert neither.status_code == 400  # it said "... to hold, not both" when neither was given
    assert "Not saved: name what to hold: a deal by its CRM id (external_id), or a person by email" in neither.text
    both = client.post(
        "/finance/holds",
        data={"deal": "D-1", "person": "ana@example.com", "period": "2026-Q1", "reason": "x", "_csrf_token": token},
    )
    assert both.status_code == 400 and "not both" in both.text
    created = client.post(
        "/finance/holds",
        data={"deal": "D-1", "period": "2026-Q1", "reason": "check the contract", "_csrf_token": token},
        follow_redirects=True,
    )
    assert (
        created.status_code == 200 and "The hold is in place" in created.text and "check the contract" in created.text
    )
    partial = client.get("/finance/holds?q=contract", headers={"HX-Request": "true"})
    assert partial.text.lstrip().startswith('<div id="holds-list">') and "check the contract" in partial.text
    assert "check the contract" not in client.get("/finance/holds?q=zzz", headers={"HX-Request": "true"}).text
    hold_id = read(engine, lambda s: s.exec(select(CommissionHold.id)).one())
    released = client.post(
        f"/finance/holds/{hold_id}/release", data={"note": "fine", "_csrf_token": token}, follow_redirects=True
    )
    assert "The hold is released" in released.text
    upload = client.post(
        "/finance/payments/import",
        files={
            "file": (
                "p.csv",
                b"invoice,deal,amount,currency,paid_at\r\nINV-9,D-1,20000.00,USD,2026-03-10\r\n",
                "text/csv",
            )
        },
        data={"_csrf_token": token},
    )
    assert upload.status_code == 200 and "1 payments recorded" in upload.text
    wrong = client.post(
        "/finance/payments/import",
        files={
            "file": ("p.csv", b"invoice,deal,amount,currency,paid_at\r\nINV-10,D-1,5.00,EUR,2026-03-10\r\n", "text/csv")
        },
        data={"_csrf_token": token},
    )
    assert wrong.status_code == 400 and "line 2, currency" in wrong.text
    assert read(engine, lambda s: len(s.exec(select(InvoicePayment)).all())) == 1


def read_session(engine: Engine):  # type: ignore[no-untyped-def]
    from sqlmodel import Session

    return Session(engine)


def hold_person(engine: Engine) -> int:
    from commissions.models import Person

    return read(engine, lambda s: s.exec(select(Person.id).where(Person.email == "ana@example.com")).one())


def test_release_after_a_date_rolls_the_commission_forward_until_then(client, engine: Engine, make_person) -> None:
    make_person("ana@example.com")
    make_person("fin@example.com", "finance")
    store_plan(
        engine,
        ["ana@example.com"],
        document=CASH_PLAN.replace("{on: payment, pro_rata: true}", "{after: 2026-04-15}"),
        name="Cash 2026",
    )
    fin = token_for(engine, "finance", "fin@example.com")
    deal = example_deal("D-1", "50000", "2026-02-15")
    assert client.post("/api/v1/deals", json=deal, headers=token_for(engine, "admin")).status_code == 201
    from commissions.core.periods import ensure_period

    with transaction(engine) as s:
        ensure_period(s, "2026-Q2")
    q1 = cash(client, fin, "2026-Q1")
    assert (q1["earned"], q1["waiting"], q1["payable"]) == ("5000.00", "5000.00", "0.00")
    q2 = cash(client, fin, "2026-Q2")
    assert (q2["earned"], q2["waiting"], q2["released"], q2["payable"]) == ("0.00", "0.00", "5000.00", "5000.00")
    assert payroll(client, fin, "2026-Q2")["net_payable"] == "5000.00"


def test_a_deal_and_its_person_held_together_are_held_once(client, engine: Engine, make_person) -> None:
    tokens = books(client, engine, make_person)
    fin = tokens["finance"]
    assert pay(client, fin, ("INV-1", "50000.00", "2026-03-10")).status_code == 200
    for target in ({"deal": "D-1"}, {"person": "ana@example.com"}):
        body = {**target, "period": "2026-Q1", "reason": "audit"}
        assert client.post("/api/v1/holds", json=body, headers=fin).status_code == 201
    twice = client.post("/api/v1/holds", json={"deal": "D-1", "period": "2026-Q1", "reason": "again"}, headers=fin)
    assert twice.status_code == 409
    q1 = cash(client, fin, "2026-Q1")
    assert (q1["held"], q1["payable"]) == ("5000.00", "0.00")  # 5,000.00 held once, not 10,000.00
    assert payroll(client, fin, "2026-Q1")["net_payable"] == "0.00"


def test_the_finance_dashboards_total_payable_is_what_the_payroll_export_pays(
    client, engine: Engine, make_person
) -> None:  # type: ignore[no-untyped-def]
    """With commission waiting for payment or held, "Total payable" is the export's net_payable added up, and the
    ledger's total is shown beside it as "Statements total" (it said 873,417.64 payable while payroll paid 857,937.58)."""
    tokens = books(client, engine, make_person)
    fin = tokens["finance"]
    sign_in(client, "fin@example.com")

    def kpis() -> tuple[str, str]:
        page = client.get("/finance?period=2026-Q1").text
        payable = page.split('data-payable="USD">')[1].split("<")[0]
        earned = page.split('data-total="USD">')[1].split("<")[0]
        return payable, earned

    assert kpis() == ("0.00 USD", "5,000.00 USD")  # nothing paid by the customer yet: all of it waits
    assert pay(client, fin, ("INV-1", "20000.00", "2026-03-10")).status_code == 200
    assert kpis() == ("2,000.00 USD", "5,000.00 USD")
    assert payroll(client, fin, "2026-Q1")["net_payable"] == "2000.00"
    response = client.post(
        "/api/v1/holds", json={"deal": "D-1", "period": "2026-Q1", "reason": "disputed"}, headers=fin
    )
    assert response.status_code in (200, 201), response.text
    assert kpis() == ("0.00 USD", "5,000.00 USD")
    assert payroll(client, fin, "2026-Q1")["net_payable"] == "0.00"
    # wholly held: nobody is paid (it counted ana, who has lines); the period page shows payroll's figures too
    assert '<span class="big" id="people-paid">0</span>' in client.get("/finance?period=2026-Q1").text
    card = client.get("/finance/periods/2026-Q1/payroll", headers={"HX-Request": "true"}).text
    assert 'data-payable="USD">0.00 USD' in card and "Statements total" in card and "5,000.00 USD" in card
    assert 'hx-get="/finance/periods/2026-Q1/payroll"' in client.get("/finance/periods/2026-Q1").text
    plain = client.get("/finance/periods/2026-Q1/payroll", follow_redirects=False)  # no JavaScript: the dashboard
    assert plain.status_code == 303 and plain.headers["location"] == "/finance?period=2026-Q1"


def test_a_hold_names_a_period_the_deal_pays_in_and_never_makes_one(client, engine: Engine, make_person) -> None:  # type: ignore[no-untyped-def]
    """A typo in the period (2026-Q2 for a deal of 2026-Q1) made an open, empty 2026-Q2 that took over the
    finance pages; it is refused, naming the period the deal pays in."""
    from commissions.models import Period

    tokens = books(client, engine, make_person)
    fin = tokens["finance"]
    wrong = client.post("/api/v1/holds", json={"deal": "D-1", "period": "2026-Q2", "reason": "typo"}, headers=fin)
    assert wrong.status_code == 400 and wrong.json()["extra"]["field"] == "period"
    assert "2026-Q2 has no statements yet" in wrong.json()["detail"]
    assert read(engine, lambda s: s.exec(select(Period.key).where(Period.key == "2026-Q2")).first()) is None
    client.post("/api/v1/deals", json=example_deal("D-2", "1000", "2026-04-02"), headers=tokens["crm"])  # Q2 exists
    elsewhere = client.post("/api/v1/holds", json={"deal": "D-1", "period": "2026-Q2", "reason": "typo"}, headers=fin)
    assert elsewhere.status_code == 400
    assert (
        "deal D-1 closed on 2026-02-15, in 2026-Q1, and pays nothing in 2026-Q2: hold it in 2026-Q1"
        in (elsewhere.json()["detail"])
    )
    right = client.post("/api/v1/holds", json={"deal": "D-1", "period": "2026-Q1", "reason": "disputed"}, headers=fin)
    assert right.status_code == 201, right.text
    assert read(engine, lambda s: len(s.exec(select(CommissionHold)).all())) == 1


def test_home_says_how_much_of_the_pay_so_far_is_held(client, engine: Engine, make_person, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Home's "Pay so far" is the statement's total, holds included; with a hold it says how much is held (it
    showed 26,650.00 while the statement said 12,100.00 of it was held and 14,550.00 payable)."""
    from datetime import date

    from commissions.app import home

    class InQ1(date):
        @classmethod
        def today(cls):  # type: ignore[no-untyped-def, override]
            return date(2026, 3, 20)

    monkeypatch.setattr(home, "date", InQ1)
    tokens = books(client, engine, make_person)
    fin = tokens["finance"]
    sign_in(client, "ana@example.com")
    assert 'id="held-note"' not in client.get("/").text  # no hold: nothing said
    assert pay(client, fin, ("INV-1", "20000.00", "2026-03-10")).status_code == 200
    response = client.post(
        "/api/v1/holds", json={"deal": "D-1", "period": "2026-Q1", "reason": "disputed"}, headers=fin
    )
    assert response.status_code == 201, response.text
    page = client.get("/").text
    assert 'id="held-note"' in page and "2,000.00 USD of it is held by finance" in page
    assert 'href="/statements/ana%40example.com?period=2026-Q1"' in page
    sign_in(client, "fin@example.com")  # the holds list names who is held, each amount in the money format
    listed = client.get("/finance/holds").text
    assert '<span title="ana@example.com">Ana</span>: <span class="nowrap">2,000.00 USD</span>' in listed


def test_nobody_holds_or_releases_their_own_pay(client, engine: Engine, make_person) -> None:  # type: ignore[no-untyped-def]
    """Four eyes, as for adjustments: finance could hold their own commission and release it (paying themselves)."""
    tokens = books(client, engine, make_person)
    make_person("pay@example.com", "finance")
    store_plan(engine, ["fin@example.com"], name="Finance bonus")
    fin, pay_clerk = tokens["finance"], token_for(engine, "finance", "pay@example.com")
    own = client.post(
        "/api/v1/holds", json={"person": "fin@example.com", "period": "2026-Q1", "reason": "x"}, headers=fin
    )
    assert own.status_code == 403 and "nobody holds or releases their own pay" in own.json()["detail"]
    deal = example_deal("F-1", "1000", "2026-02-20", owner="fin@example.com")
    assert client.post("/api/v1/deals", json=deal, headers=tokens["crm"]).status_code == 201
    by_deal = client.post("/api/v1/holds", json={"deal": "F-1", "period": "2026-Q1", "reason": "x"}, headers=fin)
    assert by_deal.status_code == 403
    held = client.post(
        "/api/v1/holds", json={"person": "fin@example.com", "period": "2026-Q1", "reason": "check"}, headers=pay_clerk
    )
    assert held.status_code == 201, held.text
    release = f"/api/v1/holds/{held.json()['id']}/release"
    assert client.post(release, json={"note": "mine"}, headers=fin).status_code == 403
    assert read(engine, lambda s: s.get(CommissionHold, held.json()["id"]).state) == "held"
    assert client.post(release, json={"note": "ok"}, headers=pay_clerk).status_code == 200
