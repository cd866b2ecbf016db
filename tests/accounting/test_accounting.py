"""Accruals, the amortisation schedule and the journal of a period, through the API (SQLite and PostgreSQL).

The worked example (plans.md 9): ana earns 13,750.00 in 2026-Q1. D-2 (45000, Enterprise, 36 months, closed
2026-02-03) pays her 4,750.00 commission + 500.00 SPIFF = 5,250.00: capitalised (36 > 12 months) and amortised
over 36 months from 2026-02-03: 5,250.00 / 36 = 145.8333 -> 145.83 a month; February: 26 days (3rd to 28th)
of 28 -> 145.83 x 26 / 28 = 135.4136 -> 135.41; March 145.83. Q1 amortisation 281.24, closing 4,968.76.
D-1 (12 months) is expensed at once (the practical expedient), as is the quota club bonus (no deal).
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections import defaultdict
from decimal import Decimal

from sqlalchemy import Engine
from sqlmodel import select

from commissions.core.db import transaction
from commissions.models import AuditEvent, Dispute, Period, Person
from tests.conftest import csrf_from, read, sign_in
from tests.finance_fixtures import example_deal, setup_books

Q1 = "/api/v1/periods/2026-Q1"


def books(client, engine: Engine, make_person) -> dict[str, dict[str, str]]:  # type: ignore[no-untyped-def]
    tokens = setup_books(engine, make_person)
    for body in (
        example_deal("D-1", "60000", "2026-01-10"),
        example_deal("D-2", "45000", "2026-02-03", product="Enterprise", term_months=36),
        example_deal("D-3", "25000", "2026-03-20", type="renewal"),
    ):
        assert client.post("/api/v1/deals", json=body, headers=tokens["crm"]).status_code == 201
    return tokens


def journal_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def payroll_net(client, tokens, key: str = "2026-Q1") -> dict[str, Decimal]:  # type: ignore[no-untyped-def]
    rows = csv.DictReader(io.StringIO(client.get(f"/api/v1/payouts/{key}.csv", headers=tokens["finance"]).text))
    return {r["email"]: Decimal(r["net_payable"]) for r in rows}


def test_accruals_tie_to_statements_and_payroll_to_the_cent(client, engine: Engine, make_person) -> None:
    tokens = books(client, engine, make_person)
    assert client.post(f"{Q1}/approve", headers=tokens["finance"]).status_code == 200
    body = client.get(f"{Q1}/accruals", headers=tokens["finance"]).json()
    ana = next(p for p in body["people"] if p["person"] == "ana@example.com")
    assert (ana["earned"], ana["paid"], ana["held"], ana["accrued"]) == ("13750.00", "0.00", "0.00", "13750.00")
    assert (ana["capitalised"], ana["expensed"]) == ("5250.00", "8500.00")
    # earned = paid + accrued + held, per person and in total; earned = the export's net_payable = the statement
    net = payroll_net(client, tokens)
    for p in body["people"]:
        assert Decimal(p["earned"]) == Decimal(p["paid"]) + Decimal(p["accrued"]) + Decimal(p["held"])
        assert Decimal(p["earned"]) == net[p["person"]]
    [total] = body["totals"]
    assert Decimal(total["earned"]) == sum(net.values()) == Decimal("13750.00")
    assert Decimal(total["earned"]) == Decimal(total["paid"]) + Decimal(total["accrued"]) + Decimal(total["held"])
    statement = client.get("/api/v1/statements/ana@example.com?period=2026-Q1", headers=tokens["finance"]).json()
    assert statement["total"] == ana["earned"]
    accounts = {a["account"]: a["amount"] for a in body["by_account"]}
    assert accounts == {"6100": "8500.00", "1450": "5250.00", "2150": "13750.00"}
    assert sum(Decimal(g["earned"]) for g in body["by_team"]) == Decimal("13750.00")
    assert [g["label"] for g in body["by_plan"]] == ["AE 2026"]
    # locked, then paid: what the paid period's export paid is paid; nothing is accrued any more
    assert client.post(f"{Q1}/lock", headers=tokens["finance"]).status_code == 200
    assert client.post(f"{Q1}/pay", headers=tokens["finance"]).status_code == 200
    paid = client.get(f"{Q1}/accruals", headers=tokens["finance"]).json()
    ana = next(p for p in paid["people"] if p["person"] == "ana@example.com")
    assert (ana["earned"], ana["paid"], ana["accrued"]) == ("13750.00", "13750.00", "0.00")


def test_the_amortisation_schedule_of_the_worked_example(client, engine: Engine, make_person) -> None:
    tokens = books(client, engine, make_person)
    body = client.get(f"{Q1}/amortisation", headers=tokens["finance"]).json()
    assert body["totals"] == [
        {
            "currency": "USD",
            "opening": "0.00",
            "capitalised": "5250.00",
            "amortised": "281.24",
            "reversed": "0.00",
            "closing": "4968.76",
        }
    ]
    [deal] = body["deals"]
    assert (deal["deal"], deal["benefit_months"], deal["amount"], deal["closed_on"]) == (
        "D-2",
        36,
        "5250.00",
        "2026-02-03",
    )
    months = deal["months"]
    assert (months[0]["month"], months[0]["amortised"], months[1]["amortised"]) == ("2026-02", "135.41", "145.83")
    # March 2026 .. January 2029: 35 months x 145.83 = 5,104.05; February 2029 (the benefit period ends on
    # 2029-02-03) takes the remainder 5,250.00 - 135.41 - 5,104.05 = 10.54
    assert len(months) == 37 and (months[-1]["month"], months[-1]["amortised"]) == ("2029-02", "10.54")
    assert sum(Decimal(m["amortised"]) for m in months) == Decimal("5250.00") and months[-1]["closing"] == "0.00"


def test_every_journal_entry_of_a_whole_period_is_balanced(client, engine: Engine, make_person) -> None:
    tokens = books(client, engine, make_person)
    response = client.get(f"{Q1}/journal.csv", headers=tokens["finance"])
    assert response.status_code == 200 and response.headers["content-type"] == "text/csv; charset=utf-8"
    assert 'filename="journal-2026-Q1.csv"' in response.headers["content-disposition"]
    rows = journal_rows(response.text)
    by_entry: dict[str, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    by_account: dict[str, Decimal] = defaultdict(Decimal)
    for r in rows:
        by_entry[r["entry"]][0] += Decimal(r["debit"])
        by_entry[r["entry"]][1] += Decimal(r["credit"])
        by_account[r["account"]] += Decimal(r["debit"]) - Decimal(r["credit"])
    assert by_entry and all(debit == credit for debit, credit in by_entry.values())
    assert sum(d for d, _ in by_entry.values()) == sum(c for _, c in by_entry.values())
    assert {r["type"] for r in rows} == {"accrual", "capitalisation", "amortisation"}
    # the liability credited is what the statements earned; the asset holds the closing balance
    assert by_account["2150"] == Decimal("-13750.00")
    assert by_account["1450"] == Decimal("4968.76") and by_account["6150"] == Decimal("281.24")
    assert by_account["6100"] == Decimal("8500.00")
    capitalisation = next(r for r in rows if r["type"] == "capitalisation" and r["debit"] != "0.00")
    assert (capitalisation["date"], capitalisation["deal"], capitalisation["person"]) == (
        "2026-02-03",
        "D-2",
        "ana@example.com",
    )
    amortisation = [r for r in rows if r["type"] == "amortisation" and r["debit"] != "0.00"]
    assert [(r["date"], r["debit"]) for r in amortisation] == [("2026-02-28", "135.41"), ("2026-03-31", "145.83")]
    xlsx = client.get(f"{Q1}/journal.xlsx", headers=tokens["finance"])
    names = zipfile.ZipFile(io.BytesIO(xlsx.content)).read("xl/workbook.xml").decode()
    for sheet in ("Accruals", "Capitalised costs", "Amortisation", "Clawback reversals", "Payments"):
        assert f'name="{sheet}"' in names


def test_a_locked_period_exports_the_same_bytes_after_late_events(client, engine: Engine, make_person) -> None:
    tokens = books(client, engine, make_person)
    assert client.post(f"{Q1}/approve", headers=tokens["finance"]).status_code == 200
    assert client.post(f"{Q1}/lock", headers=tokens["finance"]).status_code == 200
    paths = ("journal.csv", "journal.xlsx", "accruals", "amortisation")
    before = {p: client.get(f"{Q1}/{p}", headers=tokens["finance"]).content for p in paths}
    # read as of the lock, the locked period still has all of its own figures
    assert b"2026-02-03,1450,Capitalised contract costs,5250.00,0.00,USD" in before["journal.csv"].replace(
        b"2026-Q1-00002,capitalisation,", b""
    )
    assert '"capitalised":"5250.00"' in before["amortisation"].decode().replace(" ", "")
    # late events: a late deal in Q1, a term edited, a manual adjustment and D-2 cancelled (a clawback), all
    # booked in Q2
    crm = tokens["crm"]
    assert client.post("/api/v1/deals", json=example_deal("D-9", "30000", "2026-02-15"), headers=crm).status_code == 201
    cancelled = example_deal(
        "D-2",
        "45000",
        "2026-02-03",
        product="Enterprise",
        term_months=36,
        status="cancelled",
        cancelled_at="2026-04-15",
    )
    assert client.post("/api/v1/deals", json=cancelled, headers=crm).status_code == 200
    # D-1's term edited from 12 to 24 months: read live it would be capitalised; the lock kept its 12 months
    longer = example_deal("D-1", "60000", "2026-01-10", term_months=24)
    assert client.post("/api/v1/deals", json=longer, headers=crm).status_code == 200
    adjustment = {"person": "ana@example.com", "period": "2026-Q2", "amount": "100.00", "reason": "late"}
    assert client.post("/api/v1/adjustments", json=adjustment, headers=tokens["finance"]).status_code == 201
    after = {p: client.get(f"{Q1}/{p}", headers=tokens["finance"]).content for p in paths}
    assert after == before
    # the clawback of D-2 reverses its remaining asset in Q2 (April): 5,250.00 - 135.41 - 145.83 = 4,968.76
    q2 = client.get("/api/v1/periods/2026-Q2/amortisation", headers=tokens["finance"]).json()
    assert q2["totals"][0] | {} == {
        "currency": "USD",
        "opening": "4968.76",
        "capitalised": "0.00",
        "amortised": "0.00",
        "reversed": "4968.76",
        "closing": "0.00",
    }
    rows = journal_rows(client.get("/api/v1/periods/2026-Q2/journal.csv", headers=tokens["finance"]).text)
    reversal = [r for r in rows if r["type"] == "reversal"]
    assert [(r["account"], r["debit"], r["credit"], r["deal"]) for r in reversal] == [
        ("2150", "4968.76", "0.00", "D-2"),
        ("1450", "0.00", "4968.76", "D-2"),
    ]
    entries: dict[str, Decimal] = defaultdict(Decimal)
    for r in rows:
        entries[r["entry"]] += Decimal(r["debit"]) - Decimal(r["credit"])
    assert all(v == 0 for v in entries.values())
    net = payroll_net(client, tokens, "2026-Q2")
    liability = sum(Decimal(r["credit"]) - Decimal(r["debit"]) for r in rows if r["account"] == "2150")
    assert liability == sum(net.values())  # the liability moves by what the Q2 statements earned


def test_locking_with_open_items_needs_a_reason_and_is_audited(client, engine: Engine, make_person) -> None:
    tokens = books(client, engine, make_person)
    assert client.post(f"{Q1}/approve", headers=tokens["finance"]).status_code == 200
    with transaction(engine) as s:
        ana = s.exec(select(Person).where(Person.email == "ana@example.com")).one()
        period = s.exec(select(Period).where(Period.key == "2026-Q1")).one()
        s.add(Dispute(person_id=ana.id, period_id=period.id, opened_by_id=ana.id, line_text="why?"))
    refused = client.post(f"{Q1}/lock", headers=tokens["finance"])
    assert refused.status_code == 409 and "disputes open: 1" in refused.json()["detail"]
    assert read(engine, lambda s: s.exec(select(Period.state).where(Period.key == "2026-Q1")).one()) == "approved"
    sign_in(client, "fin@example.com")
    page = client.get("/finance/periods/2026-Q1")
    assert "Close checklist" in page.text and "Disputes open" in page.text and 'name="override_reason"' in page.text
    locked = client.post(f"{Q1}/lock?override_reason=Dispute%20answered%20by%20mail", headers=tokens["finance"])
    assert locked.status_code == 200 and locked.json()["state"] == "locked"
    event = read(
        engine, lambda s: s.exec(select(AuditEvent).where(AuditEvent.action == "period.lock_overridden")).one()
    )
    assert event.detail == {"reason": "Dispute answered by mail", "open_items": {"disputes": 1}}


def test_the_accounting_page_and_settings(client, engine: Engine, make_person) -> None:
    tokens = books(client, engine, make_person)
    sign_in(client, "fin@example.com")
    full = client.get("/finance/periods/2026-Q1/accounting")
    assert full.status_code == 200 and "<html" in full.text.lower()
    assert "/api/v1/periods/2026-Q1/journal.csv" in full.text and "4,968.76" in full.text
    partial = client.get("/finance/periods/2026-Q1/accounting", headers={"HX-Request": "true"})
    assert (
        partial.status_code == 200 and "<html" not in partial.text.lower() and 'id="accounting-figures"' in partial.text
    )
    bad = client.post(
        "/finance/accounting/settings",
        data={"commission_expense_account": "=cmd", "_csrf_token": csrf_from(client)},
    )
    assert bad.status_code == 400 and "commission_expense_account" in bad.text
    saved = client.post(
        "/finance/accounting/settings",
        data={"commission_expense_account": "6200", "cash_account": "1010", "_csrf_token": csrf_from(client)},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    rows = journal_rows(client.get(f"{Q1}/journal.csv", headers=tokens["finance"]).text)
    assert "6200" in {r["account"] for r in rows} and "6100" not in {r["account"] for r in rows}
    assert read(
        engine, lambda s: s.exec(select(AuditEvent).where(AuditEvent.action == "accounting.settings_changed")).one()
    )
    # a threshold of 11 months capitalises D-1's 12-month contract too (6,000.00 commission)
    client.post(
        "/finance/accounting/settings",
        data={"capitalisation_threshold_months": "11", "_csrf_token": csrf_from(client)},
        follow_redirects=False,
    )
    deals = client.get(f"{Q1}/amortisation", headers=tokens["finance"]).json()["deals"]
    assert [(d["deal"], d["benefit_months"], d["amount"]) for d in deals] == [
        ("D-1", 12, "6000.00"),
        ("D-2", 36, "5250.00"),
    ]


def test_only_finance_reads_the_accounting_api(client, engine: Engine, make_person) -> None:
    tokens = books(client, engine, make_person)
    for path in ("journal.csv", "journal.xlsx", "accruals", "amortisation"):
        for role in ("rep", "manager", "admin"):
            assert client.get(f"{Q1}/{path}", headers=tokens[role]).status_code == 403
        assert client.get(f"{Q1}/{path}").status_code == 401
        assert client.get(f"/api/v1/periods/2031-Q1/{path}", headers=tokens["finance"]).status_code == 404


def test_a_hold_is_held_not_accrued_and_keeps_the_period_from_locking(client, engine: Engine, make_person) -> None:
    """A real hold (POST /api/v1/holds): ana's 13,750.00 held is in neither paid nor accrued, the payroll
    export leaves it out, earned = paid + accrued + held to the cent, and the lock waits for it."""
    tokens = books(client, engine, make_person)
    hold = client.post(
        "/api/v1/holds",
        json={"person": "ana@example.com", "period": "2026-Q1", "reason": "left the company"},
        headers=tokens["finance"],
    )
    assert hold.status_code == 201, hold.text
    body = client.get(f"{Q1}/accruals", headers=tokens["finance"]).json()
    ana = next(p for p in body["people"] if p["person"] == "ana@example.com")
    assert (ana["earned"], ana["paid"], ana["held"], ana["accrued"]) == ("13750.00", "0.00", "13750.00", "0.00")
    # the liability still owes what is held (a hold delays a payment): 2150 reads as the journal's balance
    # (it read 0.00 while the journal credited 13,750.00)
    assert {a["account"]: a["amount"] for a in body["by_account"]}["2150"] == "13750.00"
    for person in body["people"]:
        assert Decimal(person["earned"]) == Decimal(person["paid"]) + Decimal(person["accrued"]) + Decimal(
            person["held"]
        )
    assert client.post(f"{Q1}/approve", headers=tokens["finance"]).status_code == 200
    refused = client.post(f"{Q1}/lock", headers=tokens["finance"])
    assert refused.status_code == 409 and "holds: 1" in refused.json()["detail"]
    released = client.post(
        f"/api/v1/holds/{hold.json()['id']}/release", json={"note": "settled"}, headers=tokens["finance"]
    )
    assert released.status_code == 200
    ana = next(
        p
        for p in client.get(f"{Q1}/accruals", headers=tokens["finance"]).json()["people"]
        if p["person"] == "ana@example.com"
    )
    assert (ana["held"], ana["accrued"]) == ("0.00", "13750.00")


def test_the_period_page_locks_with_open_items_only_with_a_reason(client, engine: Engine, make_person) -> None:
    tokens = books(client, engine, make_person)
    assert client.post(f"{Q1}/approve", headers=tokens["finance"]).status_code == 200
    with transaction(engine) as s:
        ana = s.exec(select(Person).where(Person.email == "ana@example.com")).one()
        period = s.exec(select(Period).where(Period.key == "2026-Q1")).one()
        s.add(Dispute(person_id=ana.id, period_id=period.id, opened_by_id=ana.id, state="answered"))
    sign_in(client, "fin@example.com")
    refused = client.post("/finance/periods/2026-Q1/lock", data={"_csrf_token": csrf_from(client)})
    assert refused.status_code == 409 and "disputes open: 1" in refused.text
    locked = client.post(
        "/finance/periods/2026-Q1/lock",
        data={"override_reason": "Answered; no change to pay", "_csrf_token": csrf_from(client)},
        follow_redirects=False,
    )
    assert locked.status_code == 303
    assert read(engine, lambda s: s.exec(select(Period.state).where(Period.key == "2026-Q1")).one()) == "locked"
