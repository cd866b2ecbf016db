"""The calculator's lean deals.csv path (``readers.read_deals``) against the grammar it shortcuts.

``read_deals`` reads the common row itself and hands any other row to the grammar
(``DealRowParser.parse`` + the people checks, ``readers._grammar_row``). For
each row of a varied set, alone after a valid row (so dates and terms are already known to
the lean path) and first (so they are not), both give the same ``Deal`` or the same error.
"""

from __future__ import annotations

import csv
from dataclasses import FrozenInstanceError, fields, replace
from decimal import Decimal
from pathlib import Path
from typing import cast

import pytest

from commissions.calculator.deals_csv import STANDARD_COLUMNS, DealRowParser
from commissions.calculator.readers import CsvError, _grammar_row, read_deals
from commissions.engine import Deal, parse_plan
from commissions.engine.inputs import DealFields

PEOPLE = {"ana@x.com", "Bo@X.com", "cy@x.com"}
PLAN = parse_plan(
    {
        "name": "P",
        "currency": "USD",
        "period": "quarter",
        "components": [{"name": "C", "kind": "per_deal", "rate": "1%"}],
    }
)
GOOD = ["D-0", "Deal", "Acct", "ana@x.com", "100.00", "USD", "2026-01-05", "new", "Pro", "12", "", "won", "", ""]

#: (column, value) changes of the good row: valid and invalid, common and odd.
CHANGES = [
    (None, None),
    ("term_months", "²"),  # a digit to isdigit(), not a number: a row error, never a crash
    ("term_months", "1²"),
    ("amount", "1²"),
    ("amount", "²"),
    ("external_id", ""),
    ("external_id", " D-1 "),
    ("external_id", "x" * 129),
    ("external_id", "x" * 128),
    ("external_id", "D-0"),  # after the good row: the same id twice
    ("name", ""),
    ("name", "n" * 201),
    ("name", ' "quoted", ☃ '),
    ("account", "a" * 201),
    ("owner", "ANA@X.COM"),
    ("owner", "bo@x.com"),
    ("owner", "Bo@X.com"),
    ("owner", "nobody@x.com"),
    ("owner", ""),
    ("owner", "a@"),
    ("amount", ""),
    ("amount", "1234.5"),
    ("amount", "1234.567"),
    ("amount", "-5"),
    ("amount", ".5"),
    ("amount", "1e3"),
    ("amount", "1,000"),
    ("amount", "1000000000000"),
    ("amount", "1000000000000.01"),
    ("amount", "NaN"),
    ("amount", " 7 "),
    ("amount", "1٣4"),
    ("currency", ""),
    ("currency", "usd"),
    ("currency", "EUR"),
    ("currency", "US"),
    ("closed_at", ""),
    ("closed_at", "2026-02-30"),
    ("closed_at", "2026-1-5"),
    ("closed_at", "1999-12-31"),
    ("closed_at", "2026-03-31"),
    ("type", ""),
    ("type", "renewal"),
    ("type", "New"),
    ("product", "p" * 201),
    ("term_months", ""),
    ("term_months", "0"),
    ("term_months", "600"),
    ("term_months", "601"),
    ("term_months", "-1"),
    ("term_months", "012"),
    ("term_months", "1.5"),
    ("source_campaign", "c" * 65),
    ("source_campaign", "CAMP"),
    ("status", "cancelled"),
    ("status", "lost"),
    ("status", "WON"),
    ("cancelled_at", "2026-02-01"),
    ("splits", "ana@x.com:60;cy@x.com:40"),
    ("splits", "ana@x.com:60%;BO@x.com:40"),
    ("splits", "ana@x.com:60;cy@x.com:30"),
    ("splits", "ana@x.com:60;nobody@x.com:40"),
    ("splits", "garbage"),
]


def _row(column: str | None, value: str | None, external_id: str) -> list[str]:
    row = list(GOOD)
    row[0] = external_id
    if column is not None and value is not None:
        row[STANDARD_COLUMNS.index(column)] = value
    return row


def _reference(rows: list[list[str]], header: list[str]) -> list[Deal] | str:
    """Every row through the grammar (the calculator's reading before the lean path)."""
    parser = DealRowParser(header)
    seen: dict[str, int] = {}
    spelled = {email.lower(): email for email in PEOPLE}
    spelled.update((email, email) for email in PEOPLE)
    interned: dict[str, str] = {}
    try:
        return [
            _grammar_row(parser, row, "deals.csv", line, seen, spelled, interned.setdefault)
            for line, row in enumerate(rows, start=2)
        ]
    except CsvError as exc:
        return str(exc)


def _lean(tmp_path: Path, rows: list[list[str]], header: list[str]) -> list[Deal] | str:
    path = tmp_path / "deals.csv"
    with open(path, "w", newline="") as handle:
        csv.writer(handle).writerows([header, *rows])
    try:
        return read_deals(path, PLAN, PEOPLE)
    except CsvError as exc:
        return str(exc).replace(str(path), "deals.csv")


def _values(result: list[Deal] | str) -> object:
    if isinstance(result, str):
        return result
    return [tuple(getattr(deal, item.name) for item in fields(Deal)) for deal in result]


@pytest.mark.parametrize("extra", [False, True])
@pytest.mark.parametrize(("column", "value"), CHANGES)
@pytest.mark.parametrize("first", [False, True])
def test_lean_reader_reads_every_row_as_the_grammar_does(
    tmp_path: Path, column: str | None, value: str | None, first: bool, extra: bool
) -> None:
    header = [*STANDARD_COLUMNS, *(["region"] if extra else [])]
    changed = _row(column, value, "D-1" if column != "external_id" else value or "")
    rows = [changed] if first else [_row(None, None, "D-0"), changed]
    if extra:
        rows = [[*row, f" r{i} "] for i, row in enumerate(rows)]
    lean, reference = _lean(tmp_path, rows, header), _reference(rows, header)
    assert _values(lean) == _values(reference)
    if not isinstance(lean, str):
        assert [type(deal.custom) for deal in lean] == [type(deal.custom) for deal in reference]  # type: ignore[union-attr]
        assert all(type(deal) is Deal for deal in lean)  # type: ignore[union-attr]


def test_deal_fields_has_deals_slots_in_order() -> None:
    """The lean path fills a ``DealFields`` and makes it a ``Deal`` in place: CPython allows it
    only for the same slots, and every field must be set. A field added to ``Deal`` fails here."""
    assert DealFields.__slots__ == tuple(item.name for item in fields(Deal)) == Deal.__slots__
    assert set(DealFields.__annotations__) == {item.name for item in fields(Deal)}


def test_a_deal_made_in_place_is_a_frozen_deal(tmp_path: Path) -> None:
    (deal,) = cast(list[Deal], _lean(tmp_path, [_row(None, None, "D-7")], list(STANDARD_COLUMNS)))
    assert type(deal) is Deal and isinstance(deal, Deal)
    with pytest.raises(FrozenInstanceError):
        deal.amount = Decimal(0)  # type: ignore[misc]
    assert deal == deal and deal != replace(deal) and replace(deal).external_id == "D-7"  # eq=False: identity
    assert deal.label.startswith("D-7")
