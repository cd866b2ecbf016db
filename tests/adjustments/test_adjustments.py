"""Manual adjustments by finance: their own lines on the statement, reversed (never edited) to correct."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from sqlalchemy import Engine, func
from sqlmodel import select

from commissions.adjustments.service import add_manual_adjustment
from commissions.core.db import transaction
from commissions.core.errors import Conflict, InputProblem
from commissions.models import Adjustment, AuditEvent, PayoutLine
from tests.conftest import csrf_from, read, sign_in
from tests.deals.test_deals_api import token_for
from tests.finance_fixtures import example_deal, ledger_of, person_id, setup_books, statement


def books(client, engine: Engine, make_person) -> dict:  # type: ignore[no-untyped-def]
    tokens = setup_books(engine, make_person)
    assert (
        client.post("/api/v1/deals", json=example_deal("D-1", "60000", "2026-01-10"), headers=tokens["crm"]).status_code
        == 201
    )
    return tokens


def adjust(client, tokens, **body):  # type: ignore[no-untyped-def]
    payload = {
        "person": "ana@example.com",
        "period": "2026-Q1",
        "amount": "250.00",
        "reason": "Spot bonus for the Acme save",
    }
    payload.update(body)
    return client.post("/api/v1/adjustments", json=payload, headers=tokens["finance"])


def count(engine: Engine, model) -> int:  # type: ignore[no-untyped-def]
    return read(engine, lambda s: s.exec(select(func.count()).select_from(model)).one())


def test_a_manual_adjustment_shows_on_the_statement_with_its_reason(client, engine: Engine, make_person) -> None:
    tokens = books(client, engine, make_person)
    response = adjust(client, tokens, deal="D-1")
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["person"], body["period"], body["amount"], body["currency"], body["deal"]) == (
        "ana@example.com",
        "2026-Q1",
        "250.00",
        "USD",
        "D-1",
    )
    st = statement(client, tokens["finance"], "ana@example.com", "2026-Q1")
    assert st["total"] == "6250.00"
    assert st["adjustments"] == [
        {
            "kind": "adjustment",
            "component": "Manual adjustment",
            "original_period": None,
            "deal": "D-1",
            "amount": "250.00",
            "text": "Spot bonus for the Acme save",
            "manual": True,
        }
    ]
    assert all(c["name"] != "Manual adjustment" for c in st["components"])
    [line] = [x for x in ledger_of(engine, "ana@example.com", "2026-Q1") if x.kind == "adjustment"]
    assert line.basis["by"] == "fin@example.com" and line.basis["adjustment_id"] == body["id"]
    event = read(engine, lambda s: s.exec(select(AuditEvent).where(AuditEvent.action == "adjustment.created")).one())
    assert event.actor_label == "fin@example.com" and event.detail["amount"] == "250.00"
    # the rep sees it on their own statement page, in its own section with the reason
    sign_in(client, "ana@example.com")
    page = client.get("/statements/ana@example.com?period=2026-Q1").text
    assert "Adjustments" in page and "Reason: Spot bonus for the Acme save" in page and "250.00 USD" in page
    assert "/finance/adjustments" not in page  # no finance actions for the rep


def test_a_recompute_never_reverses_an_adjustment(client, engine: Engine, make_person) -> None:
    tokens = books(client, engine, make_person)
    adjust(client, tokens, amount="-120.50", reason="Expense advance")
    client.post("/api/v1/deals", json=example_deal("D-2", "10000", "2026-01-20"), headers=tokens["crm"])
    st = statement(client, tokens["finance"], "ana@example.com", "2026-Q1")
    assert st["total"] == "6879.50"  # 7000.00 commission - 120.50
    assert [a["amount"] for a in st["adjustments"]] == ["-120.50"]


def test_a_correction_is_a_reversing_line_never_an_edit(client, engine: Engine, make_person) -> None:
    tokens = books(client, engine, make_person)
    created = adjust(client, tokens).json()
    before = [(x.id, x.amount_minor, x.text) for x in ledger_of(engine, "ana@example.com", "2026-Q1")]
    reversed_ = client.post(
        f"/api/v1/adjustments/{created['id']}/reverse", json={"reason": "wrong person"}, headers=tokens["finance"]
    )
    assert reversed_.status_code == 201, reversed_.text
    assert reversed_.json()["amount"] == "-250.00"
    after = ledger_of(engine, "ana@example.com", "2026-Q1")
    assert [(x.id, x.amount_minor, x.text) for x in after[: len(before)]] == before  # nothing updated or deleted
    [rev] = after[len(before) :]
    assert rev.kind == "reversal" and rev.amount_minor == -25_000 and rev.reverses_id is not None
    st = statement(client, tokens["finance"], "ana@example.com", "2026-Q1")
    assert st["total"] == "6000.00" and st["adjustments"] == []
    assert sum(x.amount_minor for x in after) == 600_000  # the ledger sums to the statement
    again = client.post(f"/api/v1/adjustments/{created['id']}/reverse", json={}, headers=tokens["finance"])
    assert again.status_code == 409 and "already reversed" in again.json()["detail"]


@pytest.mark.parametrize(
    ("body", "status", "field", "words"),
    [
        ({"amount": "0"}, 400, "amount", "zero"),
        ({"amount": "12.345"}, 400, "amount", "not an amount"),
        ({"amount": "abc"}, 400, "amount", "'abc' is not an amount: write it like 250.00 or -120.00"),
        ({"amount": "12,5"}, 400, "amount", "write decimals after a point"),  # was booked as 125.00
        ({"reason": "  "}, 400, "reason", "say why"),
        ({"person": "nobody@example.com"}, 400, "person", "no person"),
        ({"period": "2026-Q9"}, 400, "period", ""),
        ({"deal": "NOPE"}, 400, "deal", "no deal NOPE"),
    ],
)
def test_bad_input_is_refused_with_a_clear_error_and_writes_nothing(
    client, engine: Engine, make_person, body, status, field, words
) -> None:
    tokens = books(client, engine, make_person)
    lines = count(engine, PayoutLine)
    response = adjust(client, tokens, **body)
    assert response.status_code == status, response.text
    assert response.json()["extra"]["field"] == field and words in response.json()["detail"]
    assert "class" not in response.json()["detail"]  # no Python internals ("[<class 'decimal.ConversionSyntax'>]")
    assert count(engine, PayoutLine) == lines and count(engine, Adjustment) == 0


def test_nobody_adjusts_their_own_pay_nor_takes_back_a_deduction_of_it(client, engine: Engine, make_person) -> None:  # type: ignore[no-untyped-def]
    """Four eyes on pay: finance books for others; an adjustment of one's own statement (or the reversal of a
    deduction from it, which pays as much) needs another finance person. The API and the form refuse it, 403."""
    tokens = books(client, engine, make_person)
    make_person("fay@example.com", "finance")
    fay = token_for(engine, "finance", "fay@example.com")
    mine = adjust(client, tokens, person="fin@example.com", amount="5000", reason="Self bonus")
    assert mine.status_code == 403 and mine.json()["extra"]["field"] == "person", mine.text
    assert "another finance person" in mine.json()["detail"] and count(engine, Adjustment) == 0

    payload = {"person": "fin@example.com", "period": "2026-Q1", "amount": "-300", "reason": "Overpaid in Q4"}
    deduction = client.post("/api/v1/adjustments", json=payload, headers=fay)
    assert deduction.status_code == 201, deduction.text
    back = client.post(f"/api/v1/adjustments/{deduction.json()['id']}/reverse", json={}, headers=tokens["finance"])
    assert back.status_code == 403 and back.json()["extra"]["field"] == "line"
    assert count(engine, Adjustment) == 1
    assert client.post(f"/api/v1/adjustments/{deduction.json()['id']}/reverse", json={}, headers=fay).status_code == 201

    sign_in(client, "fin@example.com")
    form = {"person": "fin@example.com", "period": "2026-Q1", "amount": "5000", "reason": "Self bonus"}
    page = client.post("/finance/adjustments/", data={**form, "_csrf_token": csrf_from(client)})
    assert page.status_code == 403 and "another finance person books it" in page.text
    assert count(engine, Adjustment) == 2  # fay's deduction and her reversal of it


def test_thousands_typed_with_commas_are_read_as_people_mean_them(client, engine: Engine, make_person) -> None:  # type: ignore[no-untyped-def]
    tokens = books(client, engine, make_person)
    assert adjust(client, tokens, amount="1,250.50").status_code == 201
    assert [a.amount_minor for a in read(engine, lambda s: s.exec(select(Adjustment)).all())] == [125_050]


def test_a_locked_period_refuses_adjustments(client, engine: Engine, make_person) -> None:
    tokens = books(client, engine, make_person)
    client.post("/api/v1/periods/2026-Q1/approve", headers=tokens["finance"])
    client.post("/api/v1/periods/2026-Q1/lock", headers=tokens["finance"])
    response = adjust(client, tokens)
    assert response.status_code == 409 and "2026-Q1 is locked" in response.json()["detail"]
    assert count(engine, Adjustment) == 0
    assert adjust(client, tokens, period="2026-Q2").status_code == 201  # the next period is open


def test_the_service_refuses_zero_and_locked_in_the_callers_transaction(engine: Engine, make_person) -> None:
    make_person("ana@example.com")
    fin = make_person("fin@example.com", "finance")
    with pytest.raises(InputProblem, match="zero"), transaction(engine) as s:
        add_manual_adjustment(
            s,
            person_id=person_id(engine, "ana@example.com"),
            period_key="2026-Q1",
            amount=Decimal("0"),
            reason="x",
            actor_id=fin.id,
        )
    from tests.plans.test_plans import lock_period

    lock_period(engine, "2026-Q1")
    with pytest.raises(Conflict, match="locked"), transaction(engine) as s:
        add_manual_adjustment(
            s,
            person_id=person_id(engine, "ana@example.com"),
            period_key="2026-Q1",
            amount=Decimal("10"),
            reason="x",
            actor_id=fin.id,
        )
    with transaction(engine) as s:
        made = add_manual_adjustment(
            s,
            person_id=person_id(engine, "ana@example.com"),
            period_key="2026-Q2",
            amount=Decimal("10.00"),
            reason="x",
            actor_id=fin.id,
        )
        assert made.amount_minor == 1000 and made.currency == "USD"
    assert count(engine, Adjustment) == 1


def test_an_adjustment_reopens_an_approved_period(client, engine: Engine, make_person) -> None:
    tokens = books(client, engine, make_person)
    client.post("/api/v1/periods/2026-Q1/approve", headers=tokens["finance"])
    assert adjust(client, tokens).status_code == 201
    from tests.finance_fixtures import period_row

    assert period_row(engine, "2026-Q1").state == "open"


@pytest.mark.parametrize("role", ["rep", "manager", "admin"])
def test_only_finance_may_adjust(client, engine: Engine, make_person, role: str) -> None:
    tokens = books(client, engine, make_person)
    response = client.post(
        "/api/v1/adjustments",
        json={"person": "ana@example.com", "period": "2026-Q1", "amount": "1", "reason": "x"},
        headers=tokens[role],
    )
    assert response.status_code == 403
    email = {"rep": "ana@example.com", "manager": "mia@example.com", "admin": "root@example.com"}[role]
    sign_in(client, email)
    assert client.get("/finance/adjustments").status_code == 403
    form = client.post(
        "/finance/adjustments",
        data={
            "person": "ana@example.com",
            "period": "2026-Q1",
            "amount": "1",
            "reason": "x",
            "_csrf_token": csrf_from(client),
        },
    )
    assert form.status_code == 403
    assert count(engine, Adjustment) == 0 and count(engine, AuditEvent) == read(
        engine,
        lambda s: s.exec(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action != "adjustment.created")
        ).one(),
    )


def test_finance_books_and_reverses_through_the_pages(client, engine: Engine, make_person) -> None:
    tokens = books(client, engine, make_person)
    sign_in(client, "fin@example.com")
    page = client.get("/finance/adjustments?person=ana@example.com&period=2026-Q1")
    assert page.status_code == 200 and 'name="_csrf_token"' in page.text
    bad = client.post(
        "/finance/adjustments",
        data={
            "person": "ana@example.com",
            "period": "2026-Q1",
            "amount": "0",
            "reason": "x",
            "_csrf_token": csrf_from(client),
        },
    )
    assert bad.status_code == 400 and "amount: an adjustment of zero changes nothing" in bad.text
    done = client.post(
        "/finance/adjustments",
        data={
            "person": "ana@example.com",
            "period": "2026-Q1",
            "amount": "99.90",
            "reason": "Referral thank-you",
            "_csrf_token": csrf_from(client),
        },
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert done.headers["location"] == "/statements/ana%40example.com?period=2026-Q1&saved=adjustment"
    html = client.get(done.headers["location"]).text
    assert "Reason: Referral thank-you" in html and "99.90 USD" in html and "Reverse" in html
    assert 'role="status" id="statement-saved">Saved: the adjustment is on this statement' in html
    assert "Saved: the adjustment" not in client.get("/statements/ana@example.com?period=2026-Q1").text
    line = read(engine, lambda s: s.exec(select(PayoutLine).where(PayoutLine.kind == "adjustment")).one())
    back = client.post(
        f"/finance/adjustments/{line.id}/reverse",
        data={
            "reason": "duplicate",
            "back": "/statements/ana@example.com?period=2026-Q1",
            "_csrf_token": csrf_from(client),
        },
        follow_redirects=False,
    )
    assert back.status_code == 303
    assert back.headers["location"] == "/statements/ana@example.com?period=2026-Q1&saved=reversal"
    reversed_page = client.get(back.headers["location"]).text
    assert (
        "Referral thank-you" not in reversed_page and 'id="statement-saved">Reversed: a reversing line' in reversed_page
    )
    assert adjust(client, tokens, amount="10.00").status_code == 201
    second = read(engine, lambda s: s.exec(select(PayoutLine).where(PayoutLine.amount_minor == 1000)).one())
    from_list = client.post(
        f"/finance/adjustments/{second.id}/reverse",
        data={"reason": "again", "_csrf_token": csrf_from(client)},
        follow_redirects=False,
    )
    assert from_list.headers["location"] == "/finance/adjustments?saved=reversal"
    assert 'role="status" id="adjustment-saved">Reversed' in client.get(from_list.headers["location"]).text
    assert 'id="adjustment-saved"' not in client.get("/finance/adjustments").text
    assert "reversed" in client.get("/finance/adjustments").text


def test_the_same_request_with_its_idempotency_key_books_once(client, engine: Engine, make_person) -> None:
    """A retry after a lost answer finds what the first booked (200); the key with other values is refused."""
    tokens = books(client, engine, make_person)
    keyed = {**tokens["finance"], "Idempotency-Key": "adj-7f3a"}
    payload = {"person": "ana@example.com", "period": "2026-Q1", "amount": "250.00", "reason": "Spot bonus"}
    first = client.post("/api/v1/adjustments", json=payload, headers=keyed)
    assert first.status_code == 201, first.text
    retry = client.post(
        "/api/v1/adjustments", json={**payload, "amount": "250", "reason": " Spot bonus "}, headers=keyed
    )
    assert retry.status_code == 200 and retry.json() == first.json()  # the same request written another way
    assert (
        count(engine, Adjustment) == 1
        and statement(client, tokens["finance"], "ana@example.com", "2026-Q1")["total"] == "6250.00"
    )
    other = client.post("/api/v1/adjustments", json={**payload, "amount": "300.00"}, headers=keyed)
    assert other.status_code == 409 and other.json()["extra"] == {"field": "Idempotency-Key"}
    assert f"already booked adjustment {first.json()['id']}" in other.json()["detail"]
    for bad in ("", " spaced key", "x" * 65):
        answer = client.post("/api/v1/adjustments", json=payload, headers={**tokens["finance"], "Idempotency-Key": bad})
        if bad:
            assert answer.status_code == 400 and answer.json()["extra"] == {"field": "Idempotency-Key"}, bad
    assert count(engine, Adjustment) == 2  # the empty key is no key: that request booked a second one
    # without a key, the same body twice books twice (two spot bonuses are a thing)
    assert adjust(client, tokens).status_code == 201 and adjust(client, tokens).status_code == 201
    assert count(engine, Adjustment) == 4
    created = read(
        engine, lambda s: s.exec(select(func.count()).where(AuditEvent.action == "adjustment.created")).one()
    )
    assert created == 4  # the replay wrote no audit event


def test_keys_are_each_finance_persons_own(client, engine: Engine, make_person) -> None:
    tokens = books(client, engine, make_person)
    make_person("fay@example.com", "finance")
    fay = {**token_for(engine, "finance", "fay@example.com"), "Idempotency-Key": "k-1"}
    payload = {"person": "ana@example.com", "period": "2026-Q1", "amount": "10.00", "reason": "Lunch"}
    assert (
        client.post(
            "/api/v1/adjustments", json=payload, headers={**tokens["finance"], "Idempotency-Key": "k-1"}
        ).status_code
        == 201
    )
    assert client.post("/api/v1/adjustments", json=payload, headers=fay).status_code == 201
    assert count(engine, Adjustment) == 2


def test_a_burst_of_the_same_keyed_request_books_once(engine: Engine, make_person) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from commissions.adjustments.schemas import AdjustmentIn
    from commissions.adjustments.service import book_and_describe
    from commissions.core.principal import Principal

    make_person("ana@example.com")
    fin = make_person("fin@example.com", "finance")
    finance = Principal(role="finance", person_id=fin.id, email="fin@example.com", name="Fin")
    data = AdjustmentIn(person="ana@example.com", period="2026-Q1", amount="75.00", reason="Burst")

    def send(_: int) -> tuple[int, bool]:
        out, booked = book_and_describe(engine, finance, data, request_key="burst-1")
        return out.id, booked

    with ThreadPoolExecutor(max_workers=12) as pool:
        answers = list(pool.map(send, range(12)))
    assert len({adjustment_id for adjustment_id, _ in answers}) == 1
    assert [booked for _, booked in answers].count(True) == 1
    assert count(engine, Adjustment) == 1
    lines = read(engine, lambda s: s.exec(select(PayoutLine).where(PayoutLine.kind == "adjustment")).all())
    assert [line.amount_minor for line in lines] == [7500]


def test_the_form_sent_twice_books_once(client, engine: Engine, make_person) -> None:
    books(client, engine, make_person)
    sign_in(client, "fin@example.com")
    page = client.get("/finance/adjustments").text
    [key] = re.findall(r'name="request_key" value="([^"]+)"', page)
    form = {"person": "ana@example.com", "period": "2026-Q1", "amount": "40.00", "reason": "Double click"}
    first = client.post(
        "/finance/adjustments",
        data={**form, "request_key": key, "_csrf_token": csrf_from(client)},
        follow_redirects=False,
    )
    second = client.post(
        "/finance/adjustments",
        data={**form, "request_key": key, "_csrf_token": csrf_from(client)},
        follow_redirects=False,
    )
    assert first.status_code == second.status_code == 303 and first.headers["location"] == second.headers["location"]
    assert count(engine, Adjustment) == 1
    # back to the old form, other values: refused, and a fresh form is offered
    changed = client.post(
        "/finance/adjustments",
        data={**form, "amount": "45.00", "request_key": key, "_csrf_token": csrf_from(client)},
    )
    assert changed.status_code == 409 and "This form already booked an adjustment with other values" in changed.text
    [fresh] = re.findall(r'name="request_key" value="([^"]+)"', changed.text)
    assert fresh != key and count(engine, Adjustment) == 1
    assert key not in client.get("/finance/adjustments").text  # each page load has its own key
