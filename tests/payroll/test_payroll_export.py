"""The payroll export: cli.md's columns from the ledger, byte-identical downloads, formula-safe cells, finance only."""

from __future__ import annotations

import csv
import io
import zipfile

import pytest
from sqlalchemy import Engine, update
from sqlmodel import Session, select

from commissions.calculation.ledger import book_lines
from commissions.calculation.service import recalc_period
from commissions.core.db import transaction
from commissions.models import PayoutLine, Period, Person, Plan
from commissions.payroll.service import COLUMNS, neutralise
from tests.conftest import sign_in
from tests.deals.test_deals_api import token_for
from tests.statements.test_statements import setup as statements_setup

URL = "/api/v1/payouts/2026-Q1"


def _person(s: Session, email: str) -> Person:
    return s.exec(select(Person).where(Person.email == email)).one()


def add_line(
    engine: Engine,
    email: str,
    kind: str,
    amount_minor: int,
    *,
    currency: str = "USD",
    component: str | None = None,
    period: str = "2026-Q1",
) -> int:
    """A ledger row as the period workflow would write it (adjustment, clawback, draw ...)."""
    with transaction(engine) as s:
        person = _person(s, email)
        period_row = s.exec(select(Period).where(Period.key == period)).one()
        line = PayoutLine(
            person_id=person.id,
            period_id=period_row.id,
            component=component or kind.title(),
            kind=kind,
            amount_minor=amount_minor,
            currency=currency,
            text=f"{kind} line",
        )
        s.add(line)
        s.flush()
        book_lines(s, line_ids=[line.id])  # type: ignore[list-item]
        return line.id  # type: ignore[return-value]


def worked_example(client, engine: Engine, make_person) -> None:  # type: ignore[no-untyped-def]
    """ana: 13,750.00 earned (tests/statements/test_statements.py) + 250.00 adjustment − 500.00 clawback + 1,000.00 draw."""
    statements_setup(client, engine, make_person)
    recalc_period(engine, "2026-Q1")  # bo (no deal) gets his zero statement too
    with transaction(engine) as s:
        s.execute(update(Person).where(Person.email == "ana@example.com").values(employee_id="E-001"))
        s.execute(update(Person).where(Person.email == "bo@example.com").values(employee_id="E-002"))
    add_line(engine, "ana@example.com", "adjustment", 25_000)
    add_line(engine, "ana@example.com", "clawback", -50_000)
    add_line(engine, "ana@example.com", "draw", 100_000)
    wrong = add_line(engine, "ana@example.com", "adjustment", 999_999)  # reversed below: not in force
    with transaction(engine) as s:
        original = s.get(PayoutLine, wrong)
        reversal = PayoutLine(
            person_id=original.person_id,
            period_id=original.period_id,
            component="Adjustment",
            kind="reversal",
            amount_minor=-999_999,
            currency="USD",
            text="reversal",
            reverses_id=wrong,
        )
        s.add(reversal)
        s.flush()
        book_lines(s, line_ids=[reversal.id])  # type: ignore[list-item]


def finance(engine: Engine) -> dict[str, str]:
    return token_for(engine, "finance", "fin@example.com")


def rows_of(body: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(body.decode("utf-8"), newline="")))


def test_csv_columns_and_values_follow_the_worked_example(client, engine: Engine, make_person) -> None:
    worked_example(client, engine, make_person)
    response = client.get(URL + ".csv", headers=finance(engine))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"] == 'attachment; filename="payouts-2026-Q1.csv"'
    assert response.headers["cache-control"] == "no-store"
    body = response.content
    assert body.startswith(
        b"employee_id,email,name,period,currency,earned,adjustments,clawbacks,draw,net_payable,plan,status\r\n"
    )
    rows = rows_of(body)
    assert [r["email"] for r in rows] == ["ana@example.com", "bo@example.com"]  # one row per person, by email
    assert rows[0] == {
        "employee_id": "E-001",
        "email": "ana@example.com",
        "name": "Ana",
        "period": "2026-Q1",
        "currency": "USD",
        "earned": "13750.00",
        "adjustments": "250.00",
        "clawbacks": "-500.00",
        "draw": "1000.00",
        "net_payable": "14500.00",
        "plan": "AE 2026",
        "status": "open",
    }
    assert rows[1]["employee_id"] == "E-002" and rows[1]["net_payable"] == "0.00" and rows[1]["plan"] == "AE 2026"


def test_net_payable_equals_the_statement_total(client, engine: Engine, make_person) -> None:
    worked_example(client, engine, make_person)
    statement = client.get("/api/v1/statements/ana@example.com?period=2026-Q1", headers=finance(engine)).json()
    row = rows_of(client.get(URL + ".csv", headers=finance(engine)).content)[0]
    assert row["net_payable"] == statement["total"] == "14500.00"


def test_status_is_the_period_state_and_a_locked_export_is_byte_identical(client, engine: Engine, make_person) -> None:
    worked_example(client, engine, make_person)
    with transaction(engine) as s:
        s.execute(update(Period).where(Period.key == "2026-Q1").values(state="locked"))
    headers = finance(engine)
    for extension in ("csv", "xlsx"):
        first = client.get(f"{URL}.{extension}", headers=headers)
        second = client.get(f"{URL}.{extension}", headers=headers)
        assert first.status_code == second.status_code == 200
        assert first.content == second.content, extension
    assert {r["status"] for r in rows_of(client.get(URL + ".csv", headers=headers).content)} == {"locked"}


def test_exports_name_their_content_type_once(client, engine: Engine, make_person) -> None:
    worked_example(client, engine, make_person)
    headers = finance(engine)
    assert client.get(URL + ".csv", headers=headers).headers.get_list("content-type") == ["text/csv; charset=utf-8"]
    assert client.get(URL + ".xlsx", headers=headers).headers.get_list("content-type") == [
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    ]


def test_xlsx_is_byte_identical_for_any_unchanged_period_and_has_no_clock_in_it(
    client, engine: Engine, make_person
) -> None:
    worked_example(client, engine, make_person)
    headers = finance(engine)
    first = client.get(URL + ".xlsx", headers=headers)
    assert first.headers["content-type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert first.headers["content-disposition"] == 'attachment; filename="payouts-2026-Q1.xlsx"'
    assert client.get(URL + ".xlsx", headers=headers).content == first.content
    archive = zipfile.ZipFile(io.BytesIO(first.content))
    assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    core = archive.read("docProps/core.xml").decode()
    assert core.count("2026-03-31T00:00:00Z") == 2  # created and modified: the period's last day, not the clock
    add_line(engine, "bo@example.com", "adjustment", 100)  # the data changes: so does the file
    assert client.get(URL + ".xlsx", headers=headers).content != first.content


def test_xlsx_holds_the_same_rows_with_numbers_as_numbers(client, engine: Engine, make_person) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    worked_example(client, engine, make_person)
    content = client.get(URL + ".xlsx", headers=finance(engine)).content
    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert tuple(values[0]) == COLUMNS
    ana = dict(zip(COLUMNS, values[1], strict=False))
    assert ana["email"] == "ana@example.com" and ana["plan"] == "AE 2026" and ana["status"] == "open"
    assert [ana[c] for c in ("earned", "adjustments", "clawbacks", "draw", "net_payable")] == [
        13750,
        250,
        -500,
        1000,
        14500,
    ]
    assert all(sheet.cell(row=2, column=c).data_type == "n" for c in range(6, 11))
    assert sheet.cell(row=2, column=6).number_format == "0.00"
    assert (
        "<v>13750.00</v>" in zipfile.ZipFile(io.BytesIO(content)).read("xl/worksheets/sheet1.xml").decode()
    )  # exact text


NASTY = ['=HYPERLINK("http://x","y")', "+1", "-2", "@SUM(A1)", "  =1+1", "\tx", "\r=1"]


@pytest.mark.parametrize("value", NASTY)
def test_neutralise_prefixes_formula_triggers(value: str) -> None:
    assert neutralise(value) == "'" + value


def test_neutralise_leaves_plain_text_alone() -> None:
    for value in ["Ana", "ana@example.com", "AE 2026", "", "E-1", "1+1", "a=b"]:
        assert neutralise(value) == value


def test_exports_are_formula_safe(client, engine: Engine, make_person) -> None:
    worked_example(client, engine, make_person)
    with transaction(engine) as s:
        s.execute(
            update(Person)
            .where(Person.email == "ana@example.com")
            .values(name='=HYPERLINK("http://x","y")', employee_id="+1")
        )
        s.execute(update(Person).where(Person.email == "bo@example.com").values(name="-2", employee_id="@SUM(A1)"))
        s.execute(update(Plan).values(name="@SUM(A1)"))
        s.add(Person(email="=1+2@example.com", name="\tTab", role="rep"))
    add_line(engine, "=1+2@example.com", "adjustment", -1234)
    headers = finance(engine)
    rows = {r["email"]: r for r in rows_of(client.get(URL + ".csv", headers=headers).content)}
    assert (
        rows["ana@example.com"]["name"] == '\'=HYPERLINK("http://x","y")'
        and rows["ana@example.com"]["employee_id"] == "'+1"
    )
    assert rows["bo@example.com"]["name"] == "'-2" and rows["bo@example.com"]["employee_id"] == "'@SUM(A1)"
    assert rows["ana@example.com"]["plan"] == "'@SUM(A1)"
    assert rows["'=1+2@example.com"]["name"] == "'\tTab"
    assert rows["'=1+2@example.com"]["net_payable"] == "-12.34"  # numbers stay numbers, even negative ones
    assert rows["ana@example.com"]["clawbacks"] == "-500.00"

    openpyxl = pytest.importorskip("openpyxl")
    sheet = openpyxl.load_workbook(io.BytesIO(client.get(URL + ".xlsx", headers=headers).content)).active
    cells = [cell for row in sheet.iter_rows() for cell in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"], "a cell became a formula"
    texts = [c.value for c in cells if c.data_type == "s"]
    assert '\'=HYPERLINK("http://x","y")' in texts and "'+1" in texts and "'-2" in texts and "'@SUM(A1)" in texts
    assert not [t for t in texts if t and t[0] in "=+-@\t\r"]
    assert -12.34 in [c.value for c in cells if c.data_type == "n"]


def test_several_currencies_give_one_row_each(client, engine: Engine, make_person) -> None:
    worked_example(client, engine, make_person)
    add_line(engine, "ana@example.com", "adjustment", 5_000, currency="EUR")
    add_line(engine, "ana@example.com", "earning", 1_000, currency="JPY", component="Commission")
    rows = [
        r for r in rows_of(client.get(URL + ".csv", headers=finance(engine)).content) if r["email"] == "ana@example.com"
    ]
    assert [(r["currency"], r["earned"], r["adjustments"], r["net_payable"]) for r in rows] == [
        ("EUR", "0.00", "50.00", "50.00"),
        ("JPY", "1000", "0", "1000"),
        ("USD", "13750.00", "250.00", "14500.00"),
    ]


def test_only_finance_exports(client, engine: Engine, make_person) -> None:
    worked_example(client, engine, make_person)
    for role, email in [("rep", "ana@example.com"), ("manager", "mia@example.com"), ("admin", "root@example.com")]:
        for extension in ("csv", "xlsx"):
            response = client.get(f"{URL}.{extension}", headers=token_for(engine, role, email))
            assert response.status_code == 403, (role, extension)
            assert response.json()["status_code"] == 403
    assert (
        client.get(URL + ".csv", headers=token_for(engine, "finance")).status_code == 200
    )  # a finance token without a person
    assert client.get(URL + ".csv").status_code == 401


def test_only_finance_sessions_export(client, engine: Engine, make_person) -> None:
    worked_example(client, engine, make_person)
    for email in ["ana@example.com", "mia@example.com", "root@example.com"]:
        client.cookies.clear()
        sign_in(client, email)
        assert client.get(URL + ".csv").status_code == 403, email
        assert client.get(URL + ".xlsx").status_code == 403, email
    client.cookies.clear()
    sign_in(client, "fin@example.com")
    assert client.get(URL + ".csv").status_code == 200
    assert client.get(URL + ".xlsx").status_code == 200


def test_unknown_and_malformed_periods(client, engine: Engine, make_person) -> None:
    make_person("fin@example.com", "finance")
    headers = finance(engine)
    unknown = client.get("/api/v1/payouts/2031-Q1.csv", headers=headers)
    assert unknown.status_code == 404 and "2031-Q1" in unknown.json()["detail"]
    for bad in ["2026-Q5", "nonsense", "2026-13"]:
        response = client.get(f"/api/v1/payouts/{bad}.csv", headers=headers)
        assert response.status_code == 400, bad
        assert response.json()["extra"] == {"field": "period"} and bad in response.json()["detail"]
    assert client.get("/api/v1/payouts/2026-Q1.pdf", headers=headers).status_code == 404
