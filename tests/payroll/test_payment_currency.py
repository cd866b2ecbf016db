"""A payment currency per person (issue 19): the payroll export keeps cli.md's columns while everyone is paid
in their plan's currency, and adds the converted net after them when someone is not.

Worked by hand on the export's worked example (tests/payroll/test_payroll_export.py): ana's net payable in
2026-Q1 is 14,500.00 USD, bo's 0.00 USD; the period's last day is 2026-03-31.
- ana paid in EUR, USD→EUR 0.9200 from 2026-01-01 (and 0.9300 from 2026-04-01, after the period: not used):
  14,500.00 × 0.92 = 13,340.00 EUR.
- ana paid in GBP, only GBP→USD 1.2500 from 2026-03-01 (used inverted): 14,500.00 / 1.25 = 11,600.00 GBP.
"""

from __future__ import annotations

import io

import pytest
from sqlalchemy import Engine, update
from sqlmodel import select

from commissions.core.db import transaction
from commissions.models import AuditEvent, Person
from commissions.payroll.service import COLUMNS, PAYMENT_COLUMNS
from tests.conftest import csrf_from, read, sign_in
from tests.payroll.test_payroll_export import URL, finance, rows_of, worked_example


def pay_in(engine: Engine, email: str, currency: str | None) -> None:
    with transaction(engine) as s:
        s.execute(update(Person).where(Person.email == email).values(payment_currency=currency))


def set_rates(client, engine: Engine, rates: list[tuple[str, str, str, str]]) -> None:  # type: ignore[no-untyped-def]
    body = [{"from": a, "to": b, "rate": r, "effective_from": d} for a, b, r, d in rates]
    assert client.put("/api/v1/rates", json=body, headers=finance(engine)).status_code == 200


def test_without_another_payment_currency_the_columns_are_the_specs(client, engine: Engine, make_person) -> None:
    worked_example(client, engine, make_person)
    pay_in(engine, "ana@example.com", "USD")  # the plan's own currency: nothing to convert
    body = client.get(URL + ".csv", headers=finance(engine)).content
    assert body.split(b"\r\n")[0].decode() == ",".join(COLUMNS)


def test_a_person_paid_in_eur_gets_the_converted_net_after_the_specs_columns(
    client, engine: Engine, make_person
) -> None:
    worked_example(client, engine, make_person)
    set_rates(client, engine, [("USD", "EUR", "0.9200", "2026-01-01"), ("USD", "EUR", "0.9300", "2026-04-01")])
    pay_in(engine, "ana@example.com", "EUR")
    answer = client.get(URL + ".csv", headers=finance(engine))
    assert answer.status_code == 200, answer.text
    assert answer.content.split(b"\r\n")[0].decode() == ",".join((*COLUMNS, *PAYMENT_COLUMNS))
    ana, bo = rows_of(answer.content)
    assert ana["net_payable"] == "14500.00" and ana["currency"] == "USD"
    assert [ana[c] for c in PAYMENT_COLUMNS] == ["EUR", "13340.00", "0.9200", "2026-01-01"]
    assert [bo[c] for c in PAYMENT_COLUMNS] == ["USD", "0.00", "", ""]  # paid in the plan's currency

    openpyxl = pytest.importorskip("openpyxl")
    content = client.get(URL + ".xlsx", headers=finance(engine)).content
    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert tuple(values[0]) == (*COLUMNS, *PAYMENT_COLUMNS)
    assert values[1][len(COLUMNS) :] == ["EUR", 13340, "0.9200", "2026-01-01"]


def test_a_rate_the_other_way_round_is_used_inverted(client, engine: Engine, make_person) -> None:
    worked_example(client, engine, make_person)
    set_rates(client, engine, [("GBP", "USD", "1.2500", "2026-03-01")])
    pay_in(engine, "ana@example.com", "GBP")
    ana = rows_of(client.get(URL + ".csv", headers=finance(engine)).content)[0]
    assert [ana[c] for c in PAYMENT_COLUMNS] == ["GBP", "11600.00", "0.8", "2026-03-01"]


def test_no_rate_refuses_the_export_naming_the_person_and_the_pair(client, engine: Engine, make_person) -> None:
    worked_example(client, engine, make_person)
    set_rates(client, engine, [("USD", "JPY", "150", "2026-04-01")])  # after the period's last day
    pay_in(engine, "ana@example.com", "JPY")
    for extension in ("csv", "xlsx"):
        answer = client.get(f"{URL}.{extension}", headers=finance(engine))
        assert answer.status_code == 409
        assert answer.json()["detail"] == (
            "ana@example.com is paid in JPY: no exchange rate from USD to JPY on or before 2026-03-31 "
            "(the last day of 2026-Q1); add one on the rates page"
        )
    # the finance page says so beside the export buttons, before anyone clicks (a download fails silently)
    make_person("fin.page@example.com", "finance")
    sign_in(client, "fin.page@example.com")
    page = client.get("/finance?period=2026-Q1").text
    assert 'id="export-problem"' in page
    assert "The payroll export cannot be made yet: ana@example.com is paid in JPY: no exchange rate" in page
    set_rates(client, engine, [("USD", "JPY", "150", "2026-01-01")])
    assert 'id="export-problem"' not in client.get("/finance?period=2026-Q1").text
    assert client.get(f"{URL}.csv", headers=finance(engine)).status_code == 200


def test_an_admin_sets_a_payment_currency_on_the_people_page(client, engine: Engine, make_person) -> None:
    make_person("admin@example.com", "admin")
    ana = make_person("ana@example.com")
    sign_in(client, "admin@example.com")
    url = f"/admin/people/{ana.id}/payment-currency"
    saved = client.post(url, data={"payment_currency": "eur", "_csrf_token": csrf_from(client)}, follow_redirects=False)
    assert saved.status_code == 303
    assert "Saved: Ana is paid in EUR." in client.get(saved.headers["location"]).text
    bad = client.post(url, data={"payment_currency": "EURO", "_csrf_token": csrf_from(client)})
    assert bad.status_code == 400 and "&#39;EURO&#39; is not a currency code" in bad.text
    assert read(engine, lambda s: s.get(Person, ana.id).payment_currency) == "EUR"
    cleared = client.post(url, data={"payment_currency": "", "_csrf_token": csrf_from(client)}, follow_redirects=False)
    assert cleared.status_code == 303
    assert read(engine, lambda s: s.get(Person, ana.id).payment_currency) is None
    events = read(
        engine,
        lambda s: [e.detail for e in s.exec(select(AuditEvent).where(AuditEvent.action == "person.payment_currency"))],
    )
    assert events == [{"before": None, "after": "EUR"}, {"before": "EUR", "after": None}]
