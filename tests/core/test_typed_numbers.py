"""Numbers as people type them (``core.money.typed_number``): a comma groups thousands, nothing else. "12,5"
was once booked as 125.00 (the comma dropped): a decimal comma must be refused, never guessed."""

from __future__ import annotations

from decimal import Decimal

import pytest

from commissions.core.money import MoneyError, typed_number


@pytest.mark.parametrize(
    ("typed", "read"),
    [
        ("40000", "40000"),
        (" 40,000 ", "40000"),
        ("40,000.50", "40000.50"),
        ("1,234,567.8", "1234567.8"),
        ("-1,250.00", "-1250.00"),
        ("+999", "+999"),
        ("12.5", "12.5"),
        ("", ""),
    ],
)
def test_digits_a_point_and_commas_between_thousands_are_read(typed: str, read: str) -> None:
    assert typed_number(typed) == read
    if read:
        assert Decimal(read) == Decimal(typed.strip().replace(",", ""))


@pytest.mark.parametrize("typed", ["12,5", "1,23,456", "40,00", "1,2345", ",500", "1,000,00", "12,50.5", "1.000,50"])
def test_a_comma_anywhere_else_is_refused_naming_what_to_write(typed: str) -> None:
    with pytest.raises(MoneyError) as refused:
        typed_number(typed)
    assert "write decimals after a point" in str(refused.value) and typed in str(refused.value)


@pytest.mark.parametrize("typed", ["\u0661\u0662\u0663", "\uff11\uff12\uff13", "12\u00b3"])
def test_an_amount_is_written_in_ascii_digits(typed: str) -> None:
    """Decimal reads Arabic-Indic and full-width digits ("١٢٣" is 123): an adjustment of 123.00 was booked from
    them. Every export writes 0-9, so that is what is read."""
    from commissions.core.money import to_minor

    with pytest.raises(MoneyError, match="digits 0-9"):
        typed_number(typed)
    with pytest.raises(MoneyError, match="digits 0-9"):
        to_minor(typed, "USD")
