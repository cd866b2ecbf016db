"""Rounding and largest-remainder allocation."""

from __future__ import annotations

from decimal import Decimal

import pytest

from commissions.engine.money import allocate, format_percent, minor_digits, round_money
from commissions.engine.plan import to_ratio

D = Decimal


@pytest.mark.parametrize(
    ("value", "digits", "expected"),
    [
        ("0.005", 2, "0.01"),
        ("0.0049999", 2, "0.00"),
        ("-0.005", 2, "-0.01"),
        ("2.5", 0, "3"),
        ("1.0005", 3, "1.001"),
    ],
)
def test_half_up(value: str, digits: int, expected: str) -> None:
    assert str(round_money(D(value), digits)) == expected


@pytest.mark.parametrize(
    ("exact", "total", "expected"),
    [
        (["0.333", "0.333", "0.334"], "1.00", ["0.33", "0.33", "0.34"]),
        (["0.335", "0.335", "0.335"], "1.01", ["0.33", "0.34", "0.34"]),  # ties: later deals first
        (["0.005", "0.005"], "0.01", ["0.00", "0.01"]),
        (["10", "20"], "30.00", ["10.00", "20.00"]),
        (["1.999", "0.001"], "2.00", ["2.00", "0.00"]),
    ],
)
def test_allocate(exact: list[str], total: str, expected: list[str]) -> None:
    lines = allocate([D(v) for v in exact], D(total), 2)
    assert [str(v) for v in lines] == expected
    assert sum(lines) == D(total)


def test_currency_digits_and_percent_forms() -> None:
    assert (minor_digits("USD"), minor_digits("JPY"), minor_digits("KWD")) == (2, 0, 3)
    assert to_ratio("15%") == to_ratio("0.15") == to_ratio(D("0.15")) == D("0.15")
    assert to_ratio("1.5%") == D("0.015")
    assert format_percent(D("0.015")) == "1.5%" and format_percent(D("1.05"), 2) == "105.00%"
