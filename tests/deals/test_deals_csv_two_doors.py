"""One grammar for deals.csv (issue 15): the offline calculator (``calculator.readers.read_deals``)
and the app's CSV import (``deals.csv_import``) read the same file the same way through
``calculator.deals_csv``: the same rows accepted with the same values, the same rows refused
with the same line, field and message."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from commissions.calculator.deals_csv import DealRowParser, RowProblem, parse_splits
from commissions.calculator.readers import CsvError, read_deals
from commissions.deals.csv_import import import_deals, parse_deals_csv
from commissions.models import Deal, DealSplit, Person
from tests.conftest import read

HEADER = "external_id,name,account,owner,amount,currency,closed_at,type,product,term_months,source_campaign,status,cancelled_at,splits,region\n"
PEOPLE = {"ana@example.com", "bo@example.com"}
USD_PLAN = SimpleNamespace(currency="USD")  # read_deals reads only the plan's currency


def calculator_door(tmp_path: Path, text: str) -> list[tuple]:
    path = tmp_path / "deals.csv"
    path.write_text(text, encoding="utf-8")
    return [
        (
            d.external_id,
            d.owner,
            d.amount,
            d.currency,
            d.closed_at,
            d.name,
            d.account,
            d.type,
            d.product,
            d.term_months,
            d.source_campaign or None,
            d.status,
            d.cancelled_at,
            tuple((email, share.normalize()) for email, share in d.splits),
            {k: v for k, v in d.custom.items() if v},
        )
        for d in read_deals(path, USD_PLAN, PEOPLE)  # type: ignore[arg-type]
    ]


def app_door(text: str) -> list[tuple]:
    rows, errors = parse_deals_csv(text.encode())
    assert errors == []
    return [
        (
            d.external_id,
            d.owner,
            d.amount,
            d.currency,
            d.closed_at,
            d.name,
            d.account,
            d.type,
            d.product,
            d.term_months,
            d.source_campaign,
            d.status,
            d.cancelled_at,
            tuple((s.person, s.share.normalize()) for s in d.splits),
            dict(d.custom_fields),
        )
        for _, d in rows
    ]


ACCEPTED = {
    "splits in percent": "D-1,Acme,Acme,ana@example.com,60000,USD,2026-01-10,new,Pro,12,,won,,ana@example.com:60%;bo@example.com:40%,East\n",
    "splits as numbers": "D-1,Acme,Acme,ana@example.com,60000,USD,2026-01-10,new,Pro,12,,won,,ana@example.com:60;bo@example.com:40,East\n",
    "splits mixed, spaced, decimals": "D-1,A,A,ana@example.com,1,USD,2026-01-10,renewal,,,,won,, ana@example.com : 60.5 % ; bo@example.com:39.5;,\n",
    "emails in any case": "D-1,A,A,Ana@Example.COM,1,USD,2026-01-10,new,,,,won,,ANA@example.com:50;bo@EXAMPLE.com:50,\n",
    "currency in lower case": "D-1,A,A,ana@example.com,1.50,usd,2026-01-10,expansion,Pro,0,WEB,won,,,\n",
    "empty currency is USD": "D-1,A,A,ana@example.com,1,,2026-01-10,new,,,,,,,\n",
    "cancelled": "D-1,A,A,ana@example.com,25000.00,USD,2026-03-20,renewal,Pro,12,,cancelled,2026-03-25,,West\n",
    "the largest amount": "D-1,A,A,ana@example.com,1000000000000,USD,2100-12-31,new,,600,,won,,,\n",
}


@pytest.mark.parametrize("rows", ACCEPTED.values(), ids=ACCEPTED.keys())
def test_both_doors_accept_the_same_rows_with_the_same_values(tmp_path: Path, rows: str) -> None:
    text = HEADER + rows + "D-2,B,B,bo@example.com,45000,USD,2026-02-03,new,Enterprise,36,,won,,,\n"
    calculator = calculator_door(tmp_path, text)
    assert calculator == app_door(text)
    assert len(calculator) == 2


def test_60_and_60_percent_are_one_split() -> None:
    assert (
        parse_splits("a@x.com:60;b@x.com:40")
        == parse_splits("a@x.com:60%;b@x.com:40%")
        == (("a@x.com", Decimal(60)), ("b@x.com", Decimal(40)))
    )


REFUSED = {
    "amount not a number": ("6O000", None, "amount", "'6O000' is not an amount (write 1234.50)"),
    "amount negative": ("-5", None, "amount", "-5 is negative"),
    "amount decimals": ("60000.001", None, "amount", "60000.001 has more than 2 decimals"),
    "amount too large": ("1000000000000.01", None, "amount", "1000000000000.01 is above 1000000000000"),
    "amount empty": ("", None, "amount", "empty amount (write 1234.50)"),
    "date impossible": ("2026-02-30", "closed_at", "closed_at", "'2026-02-30' is not a date (write 2026-01-31)"),
    "date US style": ("01/10/2026", "closed_at", "closed_at", "'01/10/2026' is not a date (write 2026-01-31)"),
    "date out of range": (
        "1999-12-31",
        "closed_at",
        "closed_at",
        "1999-12-31 is not between 2000-01-01 and 2100-12-31",
    ),
    "currency": ("US", "currency", "currency", "'US' is not a currency code (write USD)"),
    "type": ("newish", "type", "type", "'newish' is not a deal type (new, expansion, renewal)"),
    "term words": ("twelve", "term", "term_months", "'twelve' is not a whole number of months"),
    "term negative": ("-1", "term", "term_months", "-1 is negative"),
    "term a superscript digit": ("1²", "term", "term_months", "'1²' is not a whole number of months"),
    "amount a superscript digit": ("1²", None, "amount", "'1²' is not an amount (write 1234.50)"),
    "term too long": ("601", "term", "term_months", "601 is more than 600 months"),
    "status": ("lost", "status", "status", "'lost' is not a status (won or cancelled)"),
    "cancelled without date": ("cancelled,", "status+", "cancelled_at", "a cancelled deal needs cancelled_at"),
    "won with a date": ("won,2026-02-01", "status+", "cancelled_at", "only a cancelled deal has cancelled_at"),
    "cancelled before closing": (
        "cancelled,2026-01-01",
        "status+",
        "cancelled_at",
        "2026-01-01 is before closed_at 2026-01-10",
    ),
    "splits short of 100": ("ana@example.com:60;bo@example.com:30", "splits", "splits", "shares sum to 90, not 100"),
    "splits short of 100%": ("ana@example.com:60%;bo@example.com:30%", "splits", "splits", "shares sum to 90, not 100"),
    "split without share": (
        "ana@example.com;bo@example.com:40",
        "splits",
        "splits",
        "'ana@example.com' is not email:share (a@x.com:60;b@x.com:40)",
    ),
    "split share not a number": (
        "ana@example.com:sixty;bo@example.com:40",
        "splits",
        "splits",
        "'sixty' is not a share (a number like 60 or 60%)",
    ),
    "split share zero": ("ana@example.com:100;bo@example.com:0", "splits", "splits", "share 0 must be above 0"),
    "split share over 100": ("ana@example.com:150;bo@example.com:-50", "splits", "splits", "share 150 is above 100"),
    "split person twice": (
        "ana@example.com:50;ANA@example.com:50",
        "splits",
        "splits",
        "ana@example.com appears twice",
    ),
    "split decimals": ("ana@example.com:33.333;bo@example.com:66.667", "splits", "splits", "share 33.333 has more"),
    "owner empty": ("", "owner", "owner", "empty owner (an email)"),
    "external_id empty": ("", "external_id", "external_id", "empty external_id"),
    "name too long": ("x" * 201, "name", "name", "longer than 200 characters"),
}
ROW = {
    None: "D-1,Acme,Acme,ana@example.com,{},USD,2026-01-10,new,Pro,12,,won,,,\n",
    "closed_at": "D-1,Acme,Acme,ana@example.com,100,USD,{},new,Pro,12,,won,,,\n",
    "currency": "D-1,Acme,Acme,ana@example.com,100,{},2026-01-10,new,Pro,12,,won,,,\n",
    "type": "D-1,Acme,Acme,ana@example.com,100,USD,2026-01-10,{},Pro,12,,won,,,\n",
    "term": "D-1,Acme,Acme,ana@example.com,100,USD,2026-01-10,new,Pro,{},,won,,,\n",
    "status": "D-1,Acme,Acme,ana@example.com,100,USD,2026-01-10,new,Pro,12,,{},,,\n",
    "status+": "D-1,Acme,Acme,ana@example.com,100,USD,2026-01-10,new,Pro,12,,{},,\n",
    "splits": "D-1,Acme,Acme,ana@example.com,100,USD,2026-01-10,new,Pro,12,,won,,{},\n",
    "owner": "D-1,Acme,Acme,{},100,USD,2026-01-10,new,Pro,12,,won,,,\n",
    "external_id": "{},Acme,Acme,ana@example.com,100,USD,2026-01-10,new,Pro,12,,won,,,\n",
    "name": "D-1,{},Acme,ana@example.com,100,USD,2026-01-10,new,Pro,12,,won,,,\n",
}


@pytest.mark.parametrize(("value", "row", "field", "message"), REFUSED.values(), ids=REFUSED.keys())
def test_both_doors_refuse_the_same_rows_naming_line_field_and_message(
    tmp_path: Path, value: str, row: str | None, field: str, message: str
) -> None:
    good = "D-0,Fine,Fine,bo@example.com,1,USD,2026-01-05,new,,,,won,,,\n"
    text = HEADER + good + ROW[row].format(value)
    path = tmp_path / "deals.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CsvError) as refused:
        read_deals(path, USD_PLAN, PEOPLE)  # type: ignore[arg-type]
    calculator = refused.value
    assert (calculator.file, calculator.line, calculator.field) == (str(path), 3, field)
    assert calculator.message.startswith(message)
    rows, errors = parse_deals_csv(text.encode())
    assert [line for line, _ in rows] == [2]
    assert [(e.line, e.field, e.message) for e in errors] == [(3, field, calculator.message)]


def test_a_person_unknown_to_either_door_is_refused_on_the_same_field(
    tmp_path: Path, engine: Engine, make_person
) -> None:
    make_person("ana@example.com")
    make_person("bo@example.com")
    for row, field in [
        ("D-1,A,A,zed@example.com,100,USD,2026-01-10,new,,,,won,,,\n", "owner"),
        ("D-1,A,A,ana@example.com,100,USD,2026-01-10,new,,,,won,,ana@example.com:50%;zed@example.com:50%,\n", "splits"),
    ]:
        path = tmp_path / "deals.csv"
        path.write_text(HEADER + row)
        with pytest.raises(CsvError) as refused:
            read_deals(path, USD_PLAN, PEOPLE)  # type: ignore[arg-type]
        assert (refused.value.line, refused.value.field) == (2, field)
        assert "zed@example.com" in refused.value.message
        report = import_deals(engine, (HEADER + row).encode(), by=None, commit=False)
        assert [(e.line, e.field) for e in report.errors] == [(2, field)]
        assert "zed@example.com" in report.errors[0].message


def test_a_file_with_60_percent_splits_is_stored_like_one_with_60(engine: Engine, make_person) -> None:
    make_person("ana@example.com")
    make_person("bo@example.com")
    percent = (
        HEADER + "D-1,A,A,ana@example.com,100,USD,2026-01-10,new,,,,won,,ana@example.com:60%;bo@example.com:40%,\n"
    )
    report = import_deals(engine, percent.encode(), by=None, commit=True)
    assert report.committed and report.created == 1

    def shares(s) -> list[tuple[str, int]]:  # type: ignore[no-untyped-def]
        return sorted(
            s.exec(
                select(Person.email, DealSplit.share_bp)
                .join(DealSplit, DealSplit.person_id == Person.id)
                .join(Deal, Deal.id == DealSplit.deal_id)
            ).all()
        )

    assert read(engine, shares) == [("ana@example.com", 6000), ("bo@example.com", 4000)]
    again = import_deals(engine, percent.replace("60%", "60").replace("40%", "40").encode(), by=None, commit=True)
    assert (again.committed, again.unchanged) == (True, 1)  # the same deal: nothing changed


def test_an_empty_type_is_the_empty_text_in_the_grammar_and_new_where_the_app_stores_it() -> None:
    """plans.md 4: an empty standard text field is "". The app's deal table holds one of the three
    types (a check constraint), so its import stores an empty type as ``new``, as the API does
    when ``type`` is left out (docs/deals-and-statements.md)."""
    header = HEADER.strip().split(",")
    row = DealRowParser(header).parse(
        ["D-1", "A", "A", "ana@example.com", "1", "USD", "2026-01-10", "", "", "", "", "", "", "", ""]
    )
    assert (row.type, row.product, row.source_campaign, row.term_months) == ("", "", "", None)
    rows, _ = parse_deals_csv((HEADER + "D-1,A,A,ana@example.com,1,USD,2026-01-10,,,,,,,,\n").encode())
    assert rows[0][1].type == "new"


def test_a_problem_names_its_field() -> None:
    with pytest.raises(RowProblem) as problem:
        parse_splits("a@x.com:60;b@x.com:30")
    assert (problem.value.field, problem.value.message) == ("splits", "shares sum to 90, not 100")


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("D-1,too,few\n", "3 values but the header has 15 columns"),
        ("D-1,A,A,ana@example.com,1,USD,2026-01-10,new,,,,won,,,,extra\n", "16 values but the header has 15 columns"),
    ],
)
def test_both_doors_refuse_a_row_of_another_width_and_skip_empty_cells(tmp_path: Path, row: str, message: str) -> None:
    text = HEADER + ",,,,,,,,,,,,,,\n" + "D-0,A,A,ana@example.com,1,USD,2026-01-10,new,,,,won,,,\n" + row
    path = tmp_path / "deals.csv"
    path.write_text(text)
    with pytest.raises(CsvError) as refused:
        read_deals(path, USD_PLAN, PEOPLE)  # type: ignore[arg-type]
    assert (refused.value.line, refused.value.message) == (4, message)
    rows, errors = parse_deals_csv(text.encode())
    assert [line for line, _ in rows] == [3]
    assert [(e.line, e.field, e.message) for e in errors] == [(4, "row", message)]
